"""Reply notifications: readers who asked are emailed, in batches, when someone replies."""
