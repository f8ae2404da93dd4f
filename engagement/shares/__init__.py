"""Shares: how often readers shared an article, per network, counted once per reader."""
