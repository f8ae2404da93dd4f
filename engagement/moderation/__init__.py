"""Moderation: the rules that hold comments for a moderator, and readers' flags."""
