"""engagement: comments, share counts and newsletter signups around a news site's articles.

`flask --app engagement ...` finds `create_app` here.
"""

from engagement.app import create_app

__all__ = ["create_app"]
