"""gunicorn's settings for engagement: `gunicorn wsgi:app` reads this file from the current
directory (./scripts/serve and the Dockerfile run it so). The service is meant to sit behind
nginx, which buffers slow clients and whole requests; these settings keep it answering when
gunicorn meets clients directly too. Command-line options and GUNICORN_CMD_ARGS override them;
WEB_CONCURRENCY sets the number of worker processes (gunicorn's default: 1)."""

wsgi_app = "wsgi:app"

# Threads per process, and a worker that gives a thread only to a request whose head has
# arrived whole (engagement/serving.py): slow clients cost sockets, not threads.
worker_class = "engagement.serving.HeadFirstThreadWorker"
threads = 4

# A worker that stops reporting for this long is killed and replaced.
timeout = 30
# On SIGTERM or SIGHUP, requests under way get this long to finish.
graceful_timeout = 20
# An idle kept-alive connection is closed after this many seconds.
keepalive = 5

# Request heads: the request line, the number of headers and each header's size.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

accesslog = "-"
# The access log never holds the tokens of emailed links (engagement/serving.py).
logger_class = "engagement.serving.RedactingLogger"


def worker_exit(server, worker):
    """A worker stops (SIGTERM, SIGHUP, a restart): where it delivers mail itself (the embedded
    default), it finishes the message in hand and releases the rest for the next process."""
    from engagement.mail.delivery import stop_background_delivery

    stop_background_delivery()


def on_starting(server):
    """Tell the workers how many they are: while the rate-limit store is down, each process
    counts its share of every limit (engagement/limits.py). Then check the settings once, here,
    before listening: a bad one stops the start with one line naming it."""
    import os

    from engagement.serving import check_settings

    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    check_settings(server.cfg.address)
