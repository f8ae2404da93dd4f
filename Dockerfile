# engagement in production: gunicorn serving wsgi:app on port 8000 as a non-root user, with the
# settings of gunicorn.conf.py. Meant to be published behind nginx (see README), not directly.
#   docker build -t engagement .
#   docker run -p 8000:8000 -e ENGAGEMENT_SECRET_KEY=... -e DATABASE_URL=postgresql+psycopg://... engagement
# Each start runs `engagement db upgrade` first. Without DATABASE_URL the service
# keeps a SQLite file in /app/instance (mount a volume there to keep it). WEB_CONCURRENCY (the
# workers: gunicorn's default is 1) and GUNICORN_CMD_ARGS tune gunicorn; production refuses
# several workers while limits are in memory. PROMETHEUS_MULTIPROC_DIR: gunicorn.conf.py makes one.
# An exact tag: a rebuild gets the same Python and Debian until this line changes.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENGAGEMENT_ENV=production

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin engagement

WORKDIR /app

# Dependencies first, in a layer of their own that code changes do not rebuild, at the versions
# of requirements.lock (the ones CI tested). Then the package itself, editable because
# migrations/ and the instance folder are found next to it.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY engagement ./engagement
RUN pip install --no-deps -e .
RUN mkdir instance && chown engagement:engagement instance

USER engagement
EXPOSE 8000

# slim has no curl: Python's urllib asks /healthz, and any error or non-2xx fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# The web service. The same image runs the other processes with another command:
#   engagement db upgrade                  the schema (once per deploy; replicas take turns)
#   engagement outbox deliver --watch      the worker: mail and webhooks
#   engagement jobs run --watch            the scheduler: retention and purges
CMD ["sh", "-c", "engagement db upgrade && exec gunicorn --config gunicorn.conf.py --bind 0.0.0.0:8000"]
