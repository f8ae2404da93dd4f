"""Articles: the pages comments and shares hang on, and whether their comments are open."""
