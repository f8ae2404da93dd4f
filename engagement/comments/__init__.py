"""Comments: threaded reader comments in Markdown, edited or deleted by their author for a while."""
