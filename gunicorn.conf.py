"""gunicorn's settings for engagement: `gunicorn wsgi:app` reads this file from the current
directory (./scripts/serve and the Dockerfile run it so). The service is meant to sit behind
nginx, which buffers slow clients and whole requests; these settings keep it answering when
gunicorn meets clients directly too. Command-line options and GUNICORN_CMD_ARGS override them;
WEB_CONCURRENCY sets the number of worker processes (gunicorn's default: 1)."""

import os
import tempfile

wsgi_app = "wsgi:app"

# /metrics adds up every worker's counters from files in PROMETHEUS_MULTIPROC_DIR; without
# one, each scrape would see the one worker that answered it. prometheus_client reads the
# variable when it is imported, which --preload does in this process before any hook runs
# and before the final worker count is known: so it is set here, for one worker too (whose
# counters then outlive its replacement). Unless the operator set one, gunicorn makes a fresh
# directory of its own, which a reload keeps (SIGHUP reads this file again) and its master
# removes when it stops. Either is emptied of old files at a start.
METRICS_DIRECTORY_MADE = "GUNICORN_ENGAGEMENT_METRICS_DIR"  # which directory is gunicorn's own
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="engagement-metrics-")
    os.environ[METRICS_DIRECTORY_MADE] = os.environ["PROMETHEUS_MULTIPROC_DIR"]

# Threads per process, and a worker that gives a thread only to a request whose head has
# arrived whole (engagement/serving.py): slow clients cost sockets, not threads.
worker_class = "engagement.serving.HeadFirstThreadWorker"
threads = 4

# A worker that stops reporting for this long is killed and replaced.
timeout = 30
# On SIGTERM or SIGHUP, requests under way get this long to finish.
graceful_timeout = 20
# An idle kept-alive connection is closed after this many seconds. nginx closes its idle
# connections to gunicorn sooner (deploy/nginx.conf, the upstream's keepalive_timeout).
keepalive = 5

# Request heads: the request line, the number of headers and each header's size.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# No control socket (gunicornc): it is one path for every gunicorn of the user
# (~/.gunicorn/gunicorn.ctl), which a USR2 successor takes over and the old master then deletes.
control_socket_disable = True

accesslog = "-"
# The access log never holds the tokens of emailed links (engagement/serving.py).
logger_class = "engagement.serving.RedactingLogger"


def worker_exit(server, worker):
    """A worker stops (SIGTERM, SIGHUP, a restart): where it delivers mail itself (the embedded
    default), it finishes the message in hand and releases the rest for the next process."""
    from engagement.mail.delivery import stop_background_delivery

    stop_background_delivery()


def child_exit(server, worker):
    """A worker is gone: its gauges leave the sum (prometheus_client's recipe); its counters
    stay in it, so that a replaced worker does not make the totals go back."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The directory gunicorn made for the metrics goes with the last master that used it."""
    import shutil

    directory = os.environ.get(METRICS_DIRECTORY_MADE)
    # A USR2 successor starts from the environment this master started with: it uses this
    # directory only if that environment named it (after a SIGHUP).
    shared = server.reexec_pid != 0 and server.cfg.env_orig.get(METRICS_DIRECTORY_MADE)
    if directory and directory == os.environ.get("PROMETHEUS_MULTIPROC_DIR") and not shared:
        shutil.rmtree(directory, ignore_errors=True)


def on_starting(server):
    """Tell the workers how many they are: while the rate-limit store is down, each process
    counts its share of every limit (engagement/limits.py). Then check the settings once, here,
    before listening: a bad one stops the start with one line naming it."""
    from engagement.serving import check_settings, empty_metrics_directory

    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    if server.master_pid == 0:  # a start, not a USR2 successor sharing the running workers' files
        empty_metrics_directory(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    check_settings(server.cfg.address)
