"""Bringing a site's comment archive in and out: imports from WordPress (WXR) and Disqus
exports, and this service's own JSON export, which reads back into an empty database."""
