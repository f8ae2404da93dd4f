"""Moderator alerts: digest emails and a signed webhook when comments need a moderator."""
