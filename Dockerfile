# supportbot serve in a container (README, "Deploy" > "Containers").
#   docker build -t supportbot .
#   docker run --env-file .env -p 3000:3000 -v supportbot-data:/srv/supportbot/data supportbot
# The project folder is /srv/supportbot (SUPPORTBOT_HOME): config/ is baked from this repository's config/
# (mount your own over /srv/supportbot/config to change it), data/ is a volume (SQLite, the KB index).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /srv/supportbot supportbot

# Build and install the package (every front end and both scale-out backends), then drop the sources.
WORKDIR /tmp/supportbot
COPY pyproject.toml README.md LICENSE .env.example ./
COPY config/ config/
COPY bot/ bot/
COPY integrations/ integrations/
COPY tools/ tools/
# DL3013 asks to pin what pip installs: this is the local package, whose dependencies pyproject.toml bounds.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[slack,discord,postgres,redis]" && rm -rf /tmp/supportbot

# The project folder: config owned by root (read-only for the bot), data writable by it.
ENV SUPPORTBOT_HOME=/srv/supportbot \
    PORT=3000
WORKDIR /srv/supportbot
COPY config/ config/
RUN mkdir data && chown supportbot:supportbot data
VOLUME ["/srv/supportbot/data"]

# Numeric, so that a runtime can verify it is not root (Kubernetes' runAsNonRoot).
USER 10001:10001
EXPOSE 3000
# Ready: the store answers, the model key is accepted, every front end is connected (slim has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/readyz\", timeout=4)"]
# SIGTERM lets the answers in progress finish (DRAIN_SECONDS, default 20): keep the stop timeout above it.
STOPSIGNAL SIGTERM
CMD ["supportbot", "serve"]
