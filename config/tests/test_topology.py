"""The deployment of compose.yaml as processes on 127.0.0.1, under load, while one web instance and one
worker are killed (SIGKILL) and restarted.

Two gunicorn instances behind a small round-robin proxy written here (like deploy/nginx.conf: a
refused connection goes to the next instance, a request already sent is never replayed), two Celery
workers, one beat, PostgreSQL and Redis. Clients call check-access and track-usage with an API key
(retrying a failed track-usage with its idempotency key, as an SDK does), buy prompt templates
(clicking Buy again after a failure, then paying on the sandbox's Checkout page) while the Stripe
sandbox posts webhooks through the proxy. Then:
- every request failure was in flight on the killed web instance;
- every sign-up made one complete account;
- every use is counted exactly once (the ledger and the counter);
- every template paid for is owned once: one purchase per item, paid, none charged twice;
- every webhook event is stored once and every delivery processed;
- beat's heartbeat ran no tick twice, and beat sent no more ticks than its schedule allows.
"""

import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import stripe
import yaml
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

from accounts.models import Organization, User
from accounts.services.api_keys import api_key_create
from billing.models import Purchase, UsageCounter, UsageLedgerEntry
from billing.services.entitlements import entitlements_refresh
from billing.services.webhook_intake import webhook_triggers_redrive
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory, SubscriptionStateFactory
from billing.webhooks import webhook_endpoint_register
from common.models import SystemLog
from config.celery import app
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
HEARTBEAT_SECONDS = 1.0
WORKLOAD_SECONDS = 14.0
BOUND = 90.0  # every wait below gives up after this long


def compose_commands() -> dict[str, list[str]]:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return {name: services[name]["command"] for name in ("web", "worker", "beat")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, what: str, timeout: float = BOUND, every: float = 0.2, explain=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}" + (f": {explain()}" if explain else ""))
        time.sleep(every)


def answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


class Process:
    """One process of the deployment, in its own process group, so a kill takes its children too."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name, self.args, self.env, self.log_dir = name, args, env, log_dir
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.log_dir / f"{self.name}.{self.starts}.log", "wb")  # noqa: SIM115 (closed by the child's exit)
        self.popen = subprocess.Popen(  # noqa: S603
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def kill(self):
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self):
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


class Proxy(ThreadingHTTPServer):
    """Round robin over the web instances; records which instance answered or died under each request."""

    daemon_threads = True

    def __init__(self, backends: list[int]):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.backends = backends
        self.turn = itertools.count()
        self.lock = threading.Lock()
        self.outcomes: list[tuple[int, str]] = []  # (backend port, "ok" | "died in flight")

    def record(self, backend: int, outcome: str):
        with self.lock:
            self.outcomes.append((backend, outcome))


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        start = next(self.server.turn)
        backends = self.server.backends
        for offset in range(len(backends)):
            port = backends[(start + offset) % len(backends)]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.connect()
            except OSError:
                continue  # refused: that instance is down; the next one gets it (proxy_next_upstream error)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                # Sent, then the instance died: replaying a POST could count it twice, so it fails.
                self.server.record(port, "died in flight")
                return self._reply(502, b'{"proxy": "the instance died in flight"}', {"X-Upstream": str(port)})
            finally:
                conn.close()
            self.server.record(port, "ok")
            passed = {k: v for k, v in response.getheaders() if k.lower() not in ("connection", "transfer-encoding",
                                                                                  "content-length")}
            return self._reply(response.status, data, {**passed, "X-Upstream": str(port)})
        self.server.record(0, "no instance")
        return self._reply(503, b'{"proxy": "no instance answers"}', {})

    def _reply(self, status: int, data: bytes, headers: dict):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward


def database_url() -> str:
    db = connection.settings_dict
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{port}/{db['NAME']}"


def deliveries() -> list[dict]:
    """Every valid stored delivery: its event id, type, object id, and whether it was processed."""
    found = []
    for trigger in WebhookEventTrigger.objects.filter(valid=True).order_by("pk"):
        body = json.loads(trigger.body)
        found.append({"event": body["id"], "type": body["type"], "object": body["data"]["object"].get("id"),
                      "processed": trigger.processed})
    return found


@pytest.fixture
def premium_key():
    """An organization on Premium (unlimited AI chats, counted) and an API key of it."""
    state = SubscriptionStateFactory()
    member = MembershipFactory(organization=state.organization)
    entitlements_refresh(organization=state.organization)
    return member, api_key_create(organization=member.organization, name="sdk", created_by=member.user).secret


def test_the_deployment_survives_losing_a_web_instance_and_a_worker(
    require_postgres, require_redis, require_broker, stripe_sandbox, premium_key, tmp_path
):
    member, api_key = premium_key
    organization = member.organization
    for_sale = [PromptTemplateFactory(published=True, price_amount=900).slug for _ in range(40)]
    # The buyer is another organization: buying makes it a Stripe customer, and the webhooks then mirror
    # its subscriptions from Stripe, where the SDK organization's local Premium has none.
    shopper = MembershipFactory()
    shopper_key = api_key_create(organization=shopper.organization, name="shop", created_by=shopper.user).secret
    call_command("billing_setup", stdout=open(os.devnull, "w"))  # noqa: SIM115
    web_ports = [free_port(), free_port()]
    proxy = Proxy(web_ports)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    webhook_endpoint_register(base_url=proxy_url)

    queue = f"topology-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))},
        # The venv's gunicorn and celery, as the image has them on its PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_ENV": "production", "PLATEAU_TESTING": "0", "SECRET_KEY": "t" * 64,
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue, "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY, "STRIPE_API_BASE": stripe_sandbox.url,
        "CELERY_VISIBILITY_TIMEOUT": "5", "CELERY_UNACKED_RESTORE_SECONDS": "2", "CELERY_WORKER_CONCURRENCY": "2",
        "BEAT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "BACKUP_SCHEDULE_ENABLED": "False",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "4", "LOG_LEVEL": "WARNING",
    }
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():  # the image does this at build time
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, check=True, timeout=300,
            env=env,
        )
    commands = compose_commands()
    processes = {
        f"web{i}": Process(f"web{i}", commands["web"], {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, tmp_path)
        for i, port in enumerate(web_ports, 1)
    }
    for i in (1, 2):  # one host here, so each worker gets a node name (compose's containers have their own)
        processes[f"worker{i}"] = Process(f"worker{i}", [*commands["worker"], "-n", f"w{i}-{queue}@%h"], env, tmp_path)
    processes["beat"] = Process("beat", commands["beat"], env, tmp_path)

    try:
        beat_started = time.monotonic()
        for process in processes.values():
            process.start()
        for port in web_ports:
            wait_until(lambda port=port: answers(port), what=f"gunicorn on {port}")

        wait_until(lambda: len(app.control.ping(timeout=1) or []) >= 2, what="two workers")
        for port in web_ports:  # a page with static files, as production serves it (whitenoise, manifest)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/")
            page = conn.getresponse()
            assert (page.status, b"/static/" in page.read()) == (200, True)
            conn.close()

        stop = threading.Event()
        failures: list[tuple[int, str]] = []
        keys_counted: list[str] = []
        customers: list[str] = []
        lock = threading.Lock()

        def call(path: str, payload: dict) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.server_address[1], timeout=60)
            try:
                conn.request("POST", path, body=json.dumps(payload), headers={
                    "Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                return response.status, response.getheader("X-Upstream") or ""
            finally:
                conn.close()

        signed_up: list[str] = []

        def page(method: str, path: str, *, body: str = "", cookie: str = "") -> tuple[int, str, str, str]:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.server_address[1], timeout=60)
            try:
                headers = {"Cookie": cookie} if cookie else {}
                if body:
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode(errors="replace")
                upstream = response.getheader("X-Upstream") or ""
                return response.status, text, response.getheader("Set-Cookie") or "", upstream
            finally:
                conn.close()

        def sign_up(email: str) -> bool:
            """allauth's sign-up page, as a browser uses it; True once the account exists."""
            status, text, set_cookie, upstream = page("GET", "/accounts/signup/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
            csrf = re.search(r"csrftoken=([^;]+)", set_cookie)
            if status != 200 or not (token and csrf):
                failures.append((status, upstream))
                return False
            password = "a long passphrase 4 topology"
            form = urlencode({"csrfmiddlewaretoken": token.group(1), "email": email,
                              "password1": password, "password2": password})
            cookie = f"csrftoken={csrf.group(1)}"
            status, text, _, upstream = page("POST", "/accounts/signup/", body=form, cookie=cookie)
            if status == 302 or (status == 200 and "already registered with this email" in text):
                return True  # the second: an earlier attempt, cut off in flight, had created it
            failures.append((status, upstream))
            return False

        def visitor(n: int):
            for i in itertools.count():
                if stop.wait(1.0):  # a few sign-ups a second at most: under allauth's rate limit per IP
                    return
                email = f"visitor-{n}-{i}@example.com"
                if any(sign_up(email) for _attempt in range(5)):
                    with lock:
                        signed_up.append(email)

        def sdk_client(n: int):
            for i in itertools.count():
                if stop.is_set():
                    return
                key = f"use-{n}-{i}"
                for _attempt in range(5):  # an SDK retries with the same idempotency key
                    status, upstream = call("/api/v1/features/track-usage/", {
                        "customer": organization.pk, "feature": "ai_chat", "user": member.user_id,
                        "idempotency_key": key})
                    if status == 200:
                        with lock:
                            keys_counted.append(key)
                        break
                    with lock:
                        failures.append((status, upstream))
                status, upstream = call("/api/v1/features/check-access/", {
                    "customer": organization.pk, "feature": "ai_chat", "user": member.user_id})
                if status != 200:
                    with lock:
                        failures.append((status, upstream))

        bought: list[str] = []

        def buy(slug: str) -> tuple[int, str, dict]:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.server_address[1], timeout=60)
            try:
                conn.request("POST", "/api/v1/purchases/", body=json.dumps(
                    {"item_type": "prompt_template", "item_id": slug}), headers={
                    "Authorization": f"Api-Key {shopper_key}", "Content-Type": "application/json"})
                response = conn.getresponse()
                body = response.read()
                answer = json.loads(body) if response.status in (200, 201) else {}
                return response.status, response.getheader("X-Upstream") or "", answer
            finally:
                conn.close()

        def buyer():
            for slug in for_sale:
                if stop.wait(0.3):
                    return
                for _attempt in range(5):  # a Buy lost with the killed instance: the buyer clicks again
                    status, upstream, answer = buy(slug)
                    if status in (200, 201):  # 200: the open Checkout of an earlier click, the same URL
                        break
                    with lock:
                        failures.append((status, upstream))
                else:
                    continue
                # Paid on the sandbox's page; its checkout.session.completed reaches the site through the
                # proxy with the dashboard's flushes, and a worker settles the purchase.
                paid = pay_hosted_checkout(answer["checkout_url"], card="4242424242424242", email="buyer@example.com")
                if paid == 303:
                    with lock:
                        bought.append(slug)

        def stripe_dashboard():
            for i in itertools.count():
                if stop.is_set():
                    return
                customers.append(stripe.Customer.create(email=f"walk-in-{i}@example.com").id)
                stripe_sandbox.flush()  # posts the events through the proxy, retrying failed ones

        crashed: list[str] = []  # a client that raised stopped early: say so, not a puzzling count below

        def client(target, *args):
            def run():
                try:
                    target(*args)
                except Exception as error:  # noqa: BLE001
                    with lock:
                        crashed.append(f"{target.__name__}{args}: {error!r}")
            return threading.Thread(target=run)

        threads = [client(sdk_client, n) for n in range(3)]
        threads += [client(stripe_dashboard), client(visitor, 1), client(buyer)]
        for thread in threads:
            thread.start()
        started = time.monotonic()

        def at(seconds: float):
            time.sleep(max(0.0, started + seconds - time.monotonic()))

        at(3)
        processes["web1"].kill()
        at(5)
        processes["web1"].start()
        wait_until(lambda: answers(web_ports[0]), what="web1 back")
        at(7)
        processes["worker1"].kill()
        at(9)
        processes["worker1"].start()
        at(WORKLOAD_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=BOUND)

        # Drain: deliveries that failed are retried by the sandbox; tasks left by the killed worker come back.
        def all_delivered():
            stripe_sandbox.flush()
            with stripe_sandbox.store.lock:
                return not stripe_sandbox.store.pending_deliveries(None)

        wait_until(all_delivered, what="every webhook delivered", every=1.0)
        def customers_processed() -> set[str]:
            return {t["object"] for t in deliveries() if t["processed"] and t["type"] == "customer.created"}

        # Jobs still queued finish on their own. A delivery answered 2xx whose job was lost (its trigger
        # committed on web1 just before the kill, or its job taken by the killed worker, which Redis hands
        # back only after the visibility timeout) is settled by beat's redrive, which picks triggers older
        # than two minutes: once the unprocessed ones stop changing, run it as beat would then.
        valid = WebhookEventTrigger.objects.filter(valid=True)
        last: list = [None]

        def settled() -> bool:
            now = sorted(valid.filter(processed=False).values_list("pk", flat=True))
            steady, last[0] = now == last[0], now
            return steady

        wait_until(settled, what="queued webhook jobs done", every=2.0)
        stranded = list(valid.filter(processed=False).values_list("pk", flat=True))
        app.conf.task_always_eager, app.conf.task_default_queue = False, queue
        try:
            # At most the stranded ones: one whose job was only waiting for its retry (a failed attempt
            # backs off for seconds) may be processed by that retry before the redrive reads it.
            redriven = webhook_triggers_redrive(now=timezone.now() + timedelta(minutes=3))
            assert redriven <= len(stranded), (redriven, stranded)
        finally:
            app.conf.task_always_eager, app.conf.task_default_queue = True, "celery"
        wait_until(lambda: not valid.filter(processed=False).exists(), what="every delivery processed", every=0.5)
        # (The shopper's organization became a Stripe customer too: its customer.created is among them.)
        wait_until(lambda: set(customers) <= customers_processed(), what="every customer.created event processed",
                   every=0.5, explain=lambda: f"not yet: {sorted(set(customers) - customers_processed())}")
    finally:
        for process in processes.values():
            process.stop()
        beat_elapsed = time.monotonic() - beat_started  # from before beat started to after it stopped
        proxy.shutdown()
        proxy.server_close()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)

    print(f"topology: {len(proxy.outcomes)} requests through the proxy, {len(failures)} failed in flight on web1, "
          f"{len(keys_counted)} uses counted, {len(signed_up)} sign-ups, {len(bought)} templates bought, "
          f"{len(customers)} customers' webhooks, "
          f"{redriven} of {len(stranded)} stranded redriven, "
          f"{SystemLog.objects.filter(event='beat_heartbeat').count()} beat ticks in {beat_elapsed:.0f} s")
    # Requests: the only failures were in flight on the killed instance (web1), each answered 502 by the proxy.
    assert not crashed, crashed
    killed = str(web_ports[0])
    assert all(f == (502, killed) for f in failures), failures
    died = [outcome for outcome in proxy.outcomes if outcome[1] == "died in flight"]
    assert {port for port, _ in died} <= {web_ports[0]}
    assert len(failures) <= len(died)  # the others were webhook deliveries, which the sandbox retried
    assert ("no instance" not in {o for _, o in proxy.outcomes})
    assert {port for port, outcome in proxy.outcomes if outcome == "ok"} == set(web_ports)  # both served

    # Sign-ups: every account once, complete (its personal organization), none half-made.
    assert signed_up  # production password hashing makes each one slow: a few in the time
    users = User.objects.filter(email__startswith="visitor-")
    assert sorted(users.values_list("email", flat=True)) == sorted(signed_up)
    assert Organization.objects.filter(slug__in=[f"personal-{pk}" for pk in users.values_list("pk", flat=True)],
                                       is_personal=True).count() == len(signed_up)

    # Usage: every use counted exactly once, none lost.
    ledger = UsageLedgerEntry.objects.filter(organization=organization, feature="ai_chat")
    assert len(keys_counted) > 20
    assert sorted(ledger.values_list("idempotency_key", flat=True)) == sorted(keys_counted)
    counters = UsageCounter.objects.filter(organization=organization, feature="ai_chat")
    assert sum(counters.values_list("used", flat=True)) == len(keys_counted)

    # Purchases: each template paid for is owned once, settled from its webhook; a second click made no
    # second purchase (one open Checkout per buyer and item), so nobody paid twice.
    purchases = Purchase.objects.filter(organization=shopper.organization, item_type="prompt_template")
    assert len(bought) >= 3
    assert sorted(purchases.filter(status="paid").values_list("item_id", flat=True)) == sorted(bought)
    items = list(purchases.values_list("item_id", flat=True))
    assert len(items) == len(set(items))

    # Webhooks: each event stored once (however often it was delivered), every delivery processed.
    delivered = {t["event"] for t in deliveries()}
    assert Event.objects.filter(id__in=delivered).count() == len(delivered)
    assert set(customers) <= customers_processed()
    assert len(customers) > 3
    assert not WebhookEventTrigger.objects.filter(valid=True, processed=False).exists()
    assert not WebhookEventTrigger.objects.filter(valid=False).exists()

    # Beat: no tick ran twice; no more ticks than one beat's schedule sends in the time it ran.
    ticks = list(SystemLog.objects.filter(event="beat_heartbeat").values_list("context__task_id", flat=True))
    assert len(ticks) == len(set(ticks))
    assert 3 <= len(ticks) <= beat_elapsed / HEARTBEAT_SECONDS + 1

    # The killed worker's restart took tasks again, and the system log saw each process (no write lost the table).
    assert processes["web1"].starts == 2 and processes["worker1"].starts == 2
