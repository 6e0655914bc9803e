"""Suite-wide fixtures: service detection, network guard, shared helpers.

Tests that need PostgreSQL, Redis or a real Celery worker ask for the fixtures
below; where the service is absent they are skipped with the reason printed (-rs).
With PLATEAU_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails instead,
so CI can never pass by skipping them.
"""

import os

import pytest
from django.conf import settings
from django.db.models.signals import pre_migrate

pytest_plugins = ["billing.sandbox.pytest_plugin"]


def skip_or_fail(reason: str):
    if os.environ.get("PLATEAU_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing on CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def require_postgres():
    if not settings.USING_POSTGRES:
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://... (make test does when it is reachable)")


@pytest.fixture
def require_redis():
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis: set REDIS_URL=redis://... (make test does when it is reachable)")


@pytest.fixture
def require_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        skip_or_fail("needs a Celery broker: set CELERY_BROKER_URL=redis://... (make test does when it is reachable)")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite the test database is a file in memory (/dev/shm), not `:memory:`.

    With `:memory:` the live server hands the test thread's one connection to every request
    thread, and Python's sqlite3 can deadlock on a connection shared by threads (one holds
    the GIL waiting for SQLite's mutex, the other holds the mutex waiting for the GIL in a
    Python SQL function): a page firing a few requests at once (the dashboard's charts) hung
    the run. With a file each thread has its own connection, as in production.
    """
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        import tempfile

        name = os.path.join(folder or tempfile.gettempdir(), f"plateau-test-{os.getpid()}.sqlite3")
        settings_dict.setdefault("TEST", {})["NAME"] = name


def _enable_postgres_extensions(sender, using, **kwargs):
    """Tables come from the models (--nomigrations): enable the PostgreSQL extensions the migrations
    would, before the tables (and their gin_trgm_ops indexes) are made. Sent per app; idempotent."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # common.search (common 0001)


pre_migrate.connect(_enable_postgres_extensions, dispatch_uid="plateau-tests-postgres-extensions")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (local memory or its own Redis prefix)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def staff_client(client):
    """The test client signed in as a superuser who passed the admin's TOTP step (staff must use MFA)."""
    from accounts.tests.factories import PASSWORD, UserFactory
    from accounts.tests.totp import login_with_totp, totp_activate

    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_totp(client, user=staff, password=PASSWORD, secret=totp_activate(staff), next_url="/admin/")
    return client


# --- Browser journeys -------------------------------------------------------------
# Playwright's sync API runs an event loop in the test thread; the ORM calls tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = settings.BASE_DIR / "artifacts"


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"needs Debian's chromium at {CHROMIUM} (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser page; `page.shot(name)` saves a screenshot under artifacts/screenshots/<test>/."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pw_page = context.new_page()
    pw_page.set_default_timeout(15_000)
    folder = ARTIFACTS / "screenshots" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def shot(name: str):
        path = folder / f"{next(counter):02d}-{name}.png"
        pw_page.screenshot(path=str(path), full_page=True)
        return path

    pw_page.shot = shot
    in_flight = set()
    context.on("request", lambda req: in_flight.add(req))
    context.on("requestfinished", lambda req: in_flight.discard(req))
    context.on("requestfailed", lambda req: in_flight.discard(req))
    yield pw_page
    # The page's last requests (lesson progress sent with keepalive as the page unloads, an
    # htmx call) must be answered while this test's database still exists: otherwise the
    # live server runs them during the next test's setup, on the SQLite connection it
    # shares with the test thread ("database table is locked", a webhook not applied).
    try:
        pw_page.goto("about:blank")
        for _ in range(100):  # at most ~5 s; each wait lets Playwright deliver the request events
            if not in_flight:
                break
            pw_page.wait_for_timeout(50)
    finally:
        context.close()
        _live_server_requests_finish(request)


def _live_server_requests_finish(request, timeout: float = 15) -> None:
    """Join the live server's request threads (keep-alive connections end when the browser closes)."""
    if "live_server" not in request.fixturenames:
        return
    httpd = request.getfixturevalue("live_server").thread.httpd
    for thread in list(getattr(httpd, "_threads", ())):
        thread.join(timeout)


# --- Celery -------------------------------------------------------------------------
# Tests run tasks eagerly even when a broker is configured, so they see the effects
# synchronously; `celery_worker` below turns that off to talk to a real worker.
@pytest.fixture(autouse=True)
def _celery_eager():
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture
def celery_worker(require_broker, transactional_db):
    """A real `celery worker` process on the configured broker, using the test database."""
    import subprocess
    import sys
    import time
    import uuid

    from celery.result import allow_join_result
    from django.db import connection

    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url_for(connection.settings_dict)
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    env["STRIPE_API_BASE"] = settings.STRIPE_API_BASE  # the test's Stripe sandbox, when it has one
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", queue,
         "-n", f"{queue}@localhost", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=settings.BASE_DIR, env=env,
    )
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"celery@{queue}@localhost", f"{queue}@localhost"], timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start (exit code {worker.poll()})")
        # Eager tasks run earlier in concurrent live-server threads can leave Celery's
        # process-wide "inside a task, never block on a result" flag set (each thread
        # restores the value it saw on entry); this process is not a task, so allow joins.
        with allow_join_result():
            yield worker
    finally:
        app.conf.task_always_eager = True
        app.conf.task_default_queue = "celery"
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _database_url_for(db: dict) -> str:
    if db["ENGINE"].endswith("postgresql"):
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"
