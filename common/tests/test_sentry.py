"""Sentry by setting: a server error reaches a fake Sentry on 127.0.0.1 with its request id; no DSN, nothing sent."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

SCRIPT = """
import django, sentry_sdk
django.setup()
from django.test import Client
from django.test.utils import override_settings
with override_settings(ROOT_URLCONF="common.tests.urls_system_log"):
    client = Client(raise_request_exception=False)
    print(client.get("/break", headers={"X-Request-ID": "req-sentry-1"}).status_code)
client_ = sentry_sdk.get_client()
print(sorted(i for i in client_.integrations if i in ("django", "celery")))
sentry_sdk.flush(timeout=10)
"""


class FakeSentry(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        FakeSentry.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_sentry():
    FakeSentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_site(tmp_path, **env):
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PLATEAU_TESTING": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "CELERY_BROKER_URL": "", "REDIS_URL": "",
        "SYSTEM_LOG_ENABLED": "0", **env,
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def events(received) -> list[dict]:
    found = []
    for _path, body in received:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_a_server_error_reaches_sentry_with_its_request_id(fake_sentry, tmp_path):
    port = fake_sentry.server_address[1]
    out = run_site(tmp_path, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")
    assert out == ["500", "['celery', 'django']"]
    assert {path for path, _ in FakeSentry.received} == {"/api/42/envelope/"}
    (event,) = events(FakeSentry.received)
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the view broke")
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["environment"] == "development" and event["level"] == "error"


def test_without_a_dsn_nothing_is_sent(fake_sentry, tmp_path):
    assert run_site(tmp_path, SENTRY_DSN="") == ["500", "[]"]
    assert FakeSentry.received == []
