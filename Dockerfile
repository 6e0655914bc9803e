# One image for the web, worker and beat processes (see docs/operations.md and compose.yaml).
#   web:    docker run IMAGE
#   worker: docker run IMAGE celery -A config worker -l INFO
#   beat:   docker run IMAGE celery -A config beat -l INFO
# Checked by hadolint (config/tests/test_deploy_files.py); its commands are the ones
# config/tests/test_topology.py runs.
FROM python:3.11-slim-bookworm
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app

# pg_dump/pg_restore for `manage.py backup` and `restore` (PostgreSQL custom format).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings to import; these throwaway values are never used at run time.
RUN SECRET_KEY=build-only-$(head -c 48 /dev/urandom | base64 | tr -d '\n') ALLOWED_HOSTS=build \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    CELERY_BROKER_URL=redis://build:6379/1 STRIPE_SECRET_KEY=sk_build \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 plateau
USER 10001
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py", "--access-logfile", "-"]
