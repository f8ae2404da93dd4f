"""Readers' votes on comments: one per reader and comment, tallied on the comment at write time."""
