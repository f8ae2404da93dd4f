"""The moderation console: a web page at /admin/ for moderators who are not programmers."""
