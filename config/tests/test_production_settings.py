"""Production settings refuse unsafe configurations and pass Django's deploy checks."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "plateau.example.com",
    # Boot-time settings only: `check --deploy` opens no connection to these.
    "DATABASE_URL": "postgres://plateau@127.0.0.1:5432/plateau",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_example",
}


def manage(*args, **env):
    # Start from this environment minus what tests set for themselves (the root
    # conftest allows sync ORM calls beside Playwright, which a deployment must not).
    dropped = {*PRODUCTION_ENV, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_prints_no_warning_with_production_settings():
    result = manage("check", "--deploy", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_production_refuses_debug():
    result = manage("check", **{**PRODUCTION_ENV, "DEBUG": "1"})
    assert result.returncode != 0
    assert "DEBUG must be off when DJANGO_ENV=production." in result.stderr


def test_production_refuses_the_default_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_refuses_missing_service_urls():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("DATABASE_URL", "STRIPE_SECRET_KEY")}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Set DATABASE_URL, STRIPE_SECRET_KEY when DJANGO_ENV=production." in result.stderr
