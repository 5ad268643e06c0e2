# Stretch Coach: the bot in a small image that runs as a non-root user.
# Build: docker build -t stretchbot .   Run: see "Running more than one replica" in README.md.

# --- builder: install the package and its runtime dependencies into a venv (no dev extras) ---
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
WORKDIR /src
# Only what `pip install .` reads: the package, its bundled content and the metadata.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
RUN /opt/venv/bin/pip install --no-compile . \
    && /opt/venv/bin/pip uninstall -y pip setuptools wheel

# --- runtime: the venv only; no compiler, no sources, no pip ---
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    MPLCONFIGDIR=/tmp/matplotlib \
    STRETCHBOT_LISTEN=0.0.0.0:8080 \
    STRETCHBOT_LOG_FORMAT=json

# A dedicated user with a fixed numeric id, so volume permissions are predictable.
# /app/data is the SQLite folder, for running one process with polling (`run`).
RUN groupadd --system --gid 10001 stretchbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin stretchbot \
    && mkdir -p /app/data \
    && chown -R 10001:10001 /app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001

EXPOSE 8080
STOPSIGNAL SIGTERM

# Liveness of `serve` (slim has no curl). The port is taken from STRETCHBOT_LISTEN.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('STRETCHBOT_LISTEN', '0.0.0.0:8080').rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"]

ENTRYPOINT ["stretchbot"]
CMD ["serve"]
