"""Two web processes on one database and one Redis, as production runs: a revoked key (or a
signed-out JWT session) is refused by each of them from the first request after the
revocation, and a rate limit is one exact count across them."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import AuthSession, Role
from accounts.services.api_keys import api_key_create, api_key_revoke
from accounts.services.sessions import auth_session_revoke
from accounts.tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.services, pytest.mark.slow]

SELF = "/api/v1/auth/api-key/"
SUSTAINED = 10  # per minute and key, in the servers below


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def two_servers(require_postgres, require_redis, transactional_db):
    """Two gunicorn processes (one worker each) on the test database and the test's Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "API_THROTTLE_BURST": "1000/second",
        "API_THROTTLE_SUSTAINED": f"{SUSTAINED}/minute",
        "PLATEAU_TESTING": "true",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    servers, bases = [], []
    try:
        for _ in range(2):
            port = _free_port()
            command = [gunicorn, "config.wsgi", "-w", "1", "-k", "gthread", "--threads", "2"]
            command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
            servers.append(subprocess.Popen(command, cwd=settings.BASE_DIR, env=env))
            bases.append(f"http://127.0.0.1:{port}")
        for server, base in zip(servers, bases, strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"gunicorn on {base} did not start (exit code {server.poll()})")
                    time.sleep(0.1)  # waiting for a process to bind, not for a result
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)


def _status(base: str, path: str, authorization: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _get(base: str, raw_key: str) -> int:
    return _status(base, SELF, f"Api-Key {raw_key}")


def test_a_revoked_key_is_refused_at_once_by_every_process(two_servers):
    admin = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)
    # Each process has read the key and holds the cached answer.
    assert [_get(base, created.secret) for base in two_servers] == [200, 200]
    assert [_get(base, created.secret) for base in two_servers] == [200, 200]

    api_key_revoke(api_key=created.api_key)

    assert [_get(base, created.secret) for base in two_servers] == [401, 401]


def test_the_rate_limit_is_one_exact_count_across_processes(two_servers):
    admin = MembershipFactory(role=Role.ADMIN)
    created = api_key_create(organization=admin.organization, name="sdk", created_by=admin.user)

    answers = [_get(two_servers[number % 2], created.secret) for number in range(SUSTAINED + 4)]

    # Alternating between the processes, the limit counts every request once: the first
    # request over it is refused, and every one after it.
    assert answers == [200] * SUSTAINED + [429] * 4


def _me(base: str, access: str) -> int:
    return _status(base, "/api/v1/auth/me/", f"Bearer {access}")


def test_a_signed_out_jwt_session_is_refused_at_once_by_every_process(two_servers):
    member = MembershipFactory(role=Role.ADMIN)
    body = json.dumps({"email": member.user.email, "password": PASSWORD}).encode()
    obtain = urllib.request.Request(
        two_servers[0] + "/api/v1/auth/token/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(obtain, timeout=10) as response:
        access = json.loads(response.read())["access"]
    # Each process has read the session and its user and holds the cached answer.
    assert [_me(base, access) for base in two_servers] == [200, 200]
    assert [_me(base, access) for base in two_servers] == [200, 200]

    auth_session_revoke(auth_session=AuthSession.objects.get(user=member.user))

    assert [_me(base, access) for base in two_servers] == [401, 401]
