# engagement in production: gunicorn serving wsgi:app on port 8000 as a non-root user, with the
# settings of gunicorn.conf.py. Meant to be published behind nginx (see README), not directly.
#   docker build -t engagement .
#   docker run -p 8000:8000 -e ENGAGEMENT_SECRET_KEY=... -e DATABASE_URL=postgresql+psycopg://... engagement
# Each start runs `flask --app engagement db upgrade` first. Without DATABASE_URL the service
# keeps a SQLite file in /app/instance (mount a volume there to keep it). WEB_CONCURRENCY and
# GUNICORN_CMD_ARGS tune gunicorn; production refuses several workers while limits are in memory.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENGAGEMENT_ENV=production

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin engagement

WORKDIR /app

# Dependencies first, in a layer of their own that code changes do not rebuild: an editable
# install of a placeholder package, which the real package then replaces in place. Editable,
# because migrations/ and the instance folder are found next to the package (see README).
COPY pyproject.toml README.md ./
RUN mkdir engagement \
    && touch engagement/__init__.py \
    && pip install -e . \
    && rm -r engagement

COPY wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY engagement ./engagement
RUN mkdir instance && chown engagement:engagement instance

USER engagement
EXPOSE 8000

# slim has no curl: Python's urllib asks /healthz, and any error or non-2xx fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["sh", "-c", "flask --app engagement db upgrade && exec gunicorn --config gunicorn.conf.py --bind 0.0.0.0:8000"]
