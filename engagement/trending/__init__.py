"""What's Hot: articles ranked by the comments and shares they drew lately."""
