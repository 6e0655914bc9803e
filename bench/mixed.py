"""A bounded mixed workload against the real stack: `python bench/mixed.py` (or `make bench ARGS=--mixed`).

gunicorn (gthread 2×4, `config/gunicorn.conf.py`) on PostgreSQL + Redis with a Celery
worker, driven from this process on 127.0.0.1 by `--clients` concurrent clients (threads,
one keep-alive connection each) for `--seconds`. Each client picks its next request by
weight:

- pages signed out (home, learning, marketplace) and signed in (a session cookie);
- check-access and track-usage with an API key (each track with its own idempotency key);
- JWT API reads (`GET /api/v1/auth/me/`);
- purchases: `POST /api/v1/purchases/` with the JWT for a template nobody bought yet, then
  the card form of the Checkout page the answer names, posted to the run's Stripe sandbox
  (in this process), whose webhooks (checkout.session.completed and the payment's events)
  the site accepts and the Celery worker processes.

At the end: every 5xx is counted (the goal is none), p50/p95/p99 per kind, the sandbox's
deliveries are flushed and the Celery queue must drain; the usage ledger must hold exactly
one row per track-usage answered 200, and every purchase whose card form the sandbox
accepted must be paid once (nothing lost, nothing counted twice).

    python bench/mixed.py [--clients 200] [--seconds 120] [--rates 60,90,120]

`--rates`: phases of `--seconds` each, the clients together offering that many requests
per second (each client at most one request per clients/rate seconds), to find the highest
rate whose p95 stays under 200 ms; without it, each client sends back to back.

Environment: BENCH_DATABASE_URL, BENCH_REDIS_URL as for bench/run.py.
"""

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PY, cpu_seconds, ensure_database, serve, server_env, wait_until_serving  # noqa: E402
from billing.sandbox.server import SandboxServer  # noqa: E402

# kind → (weight, method, path or None when built per request)
WEIGHTS = {
    "page-out": 20,
    "page-in": 15,
    "check-access": 30,
    "track-usage": 15,
    "jwt-read": 20,
    "purchase": 2,
}
CARD = "4242424242424242"
PAGES = ["/", "/learn/", "/marketplace/"]


def shell_last_line(env: dict, code: str) -> str:
    """Run `code` in `manage.py shell` with the site's settings; the last line it printed."""
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return out.strip().splitlines()[-1]


def seed(env: dict) -> dict:
    code = (
        "import json; from bench.seed import bench_seed, bench_session_cookie; "
        "s = bench_seed(); s['session'] = bench_session_cookie(); print(json.dumps(s))"
    )
    return json.loads(shell_last_line(env, code))


class Shop:
    """The templates left to buy (one buyer owns an item once), and the purchases paid in the sandbox."""

    def __init__(self, slugs: list[str], sandbox_port: int):
        self.slugs, self.sandbox_port = list(reversed(slugs)), sandbox_port
        self.lock = threading.Lock()
        self.paid_in_sandbox = 0

    def next_slug(self) -> str | None:
        with self.lock:
            return self.slugs.pop() if self.slugs else None

    def buy(self, connection, jwt: str, slug: str) -> int:  # the buyer's JWT, not the reads
        """Start the purchase on the site (the measured request), then pay its Checkout in the sandbox."""
        body = json.dumps({"item_type": "prompt_template", "item_id": slug})
        headers = {"Authorization": f"Bearer {jwt}", "Content-Type": "application/json"}
        connection.request("POST", "/api/v1/purchases/", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 201:
            return response.status
        path = urlsplit(json.loads(answer)["checkout_url"]).path
        form = urlencode({"card_number": CARD, "email": "bench@plateau.test", "name": "Bench"})
        sandbox = http.client.HTTPConnection("127.0.0.1", self.sandbox_port, timeout=30)
        try:
            sandbox.request("POST", path, body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
            paid = sandbox.getresponse()
            paid.read()
        finally:
            sandbox.close()
        if paid.status in (302, 303):
            with self.lock:
                self.paid_in_sandbox += 1
        return response.status


IDLE_RECONNECT_SECONDS = 1.5  # under gunicorn's keepalive (config/gunicorn.conf.py)


def client_loop(
    port: int, deadline: float, data: dict, run_id: str, results: list, lock: threading.Lock, shop: Shop,
    interval: float = 0.0,
) -> None:
    """Requests until `deadline`: back to back, or (`interval` > 0) one every `interval` seconds at most."""
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    due = time.monotonic() + random.uniform(0, interval)  # spread the clients' first requests over an interval
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine, counter = [], 0
    me = uuid.uuid4().hex[:8]  # a thread's ident is reused by the next phase's threads: not a key
    last_used = time.monotonic()
    api_key = {"Authorization": f"Api-Key {data['api_key']}", "Content-Type": "application/json"}
    check = json.dumps({"customer": data["customer"], "feature": "premium_article"})
    while time.monotonic() < deadline:
        if interval:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            due = max(due + interval, time.monotonic() - interval)  # late: no burst to catch up more than one
            if time.monotonic() >= deadline:
                break
        kind = random.choices(kinds, weights)[0]
        if kind == "page-out":
            method, path, body, headers = "GET", random.choice(PAGES), None, {}
        elif kind == "page-in":
            method, path, body, headers = "GET", random.choice(PAGES), None, {"Cookie": data["session"]}
        elif kind == "check-access":
            method, path, body, headers = "POST", "/api/v1/features/check-access/", check, api_key
        elif kind == "track-usage":
            counter += 1
            payload = {"customer": data["customer"], "feature": "premium_article"}
            payload["idempotency_key"] = f"{run_id}-{me}-{counter}"
            method, path, body, headers = "POST", "/api/v1/features/track-usage/", json.dumps(payload), api_key
        elif kind == "jwt-read":
            method, path, body, headers = "GET", "/api/v1/auth/me/", None, {"Authorization": f"Bearer {data['jwt']}"}
        else:
            slug = shop.next_slug()
            if slug is None:
                continue
        if time.monotonic() - last_used > IDLE_RECONNECT_SECONDS:
            # gunicorn closes a keep-alive connection idle for `keepalive` seconds (2): a client
            # (urllib3, a browser) notices and reconnects rather than send into a closed socket.
            connection.close()
        started = time.perf_counter()
        try:
            if kind == "purchase":
                status = shop.buy(connection, data["buyer_jwt"], slug)
            else:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # the connection failed: counted apart from the answers
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine.append((kind, status, (time.perf_counter() - started) * 1000))
        last_used = time.monotonic()
    connection.close()
    with lock:
        results.extend(mine)


def phase_report(rate: float, results: list, elapsed: float, cpu: float) -> int:
    """One phase's table; returns its 5xx and failed connections."""
    offered = f"offered {rate:.0f}/s" if rate else "back to back"
    print(f"\n== {offered}: {len(results)} requests in {elapsed:.0f} s: {len(results) / elapsed:.0f} requests/s,")
    print(f"   site CPU {cpu / max(1, len(results)) * 1e6:.0f} µs per request")
    print(f"{'kind':<14}{'count':>8}{'2xx':>8}{'4xx':>6}{'5xx':>6}{'failed':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    server_errors = 0
    for kind in WEIGHTS:
        rows = [r for r in results if r[0] == kind]
        if not rows:
            continue
        latencies = sorted(r[2] for r in rows)
        quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        ok = sum(1 for r in rows if 200 <= r[1] < 300)
        client = sum(1 for r in rows if 400 <= r[1] < 500)
        errors = sum(1 for r in rows if r[1] >= 500)
        failed = sum(1 for r in rows if r[1] == 0)
        server_errors += errors + failed
        print(
            f"{kind:<14}{len(rows):>8}{ok:>8}{client:>6}{errors:>6}{failed:>8}"
            f"{quantiles[49]:>9.1f}{quantiles[94]:>9.1f}{quantiles[98]:>9.1f}"
        )
    reads = sorted(r[2] for r in results if r[0] in ("page-out", "page-in", "jwt-read", "check-access"))
    if len(reads) > 1:
        print(f"pages and API reads together: p95 {statistics.quantiles(reads, n=100)[94]:.1f} ms")
    return server_errors


def purchases_paid(env: dict, run_id: str) -> int:
    code = (
        "from billing.models import Purchase; "
        f"print(Purchase.objects.filter(item_id__startswith='mixed-{run_id}-', status='paid').count())"
    )
    return int(shell_last_line(env, code))


def purchase_seed(env: dict, base: str, run_id: str, count: int) -> dict:
    code = "import json; from bench.seed import bench_purchase_seed; "
    code += f"print(json.dumps(bench_purchase_seed(base_url={base!r}, run_id={run_id!r}, count={count})))"
    return json.loads(shell_last_line(env, code))


def ledger_count(env: dict, run_id: str) -> int:
    code = (
        "from billing.models import UsageLedgerEntry; "
        f"print(UsageLedgerEntry.objects.filter(idempotency_key__startswith={run_id + '-'!r}).count())"
    )
    return int(shell_last_line(env, code))


def wait_until_queue_drained(redis_url: str, queue: str, limit: float = 120.0) -> float:
    import redis

    broker = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if not broker.llen(queue) and not broker.hlen("unacked"):
            return time.monotonic() - started
        time.sleep(0.1)  # a script polling a queue, not a test
    raise RuntimeError(f"the Celery queue still held jobs after {limit:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--purchases", type=int, default=3000, help="templates on sale (one purchase each at most)")
    parser.add_argument(
        "--rates", default="",
        help="offered requests/s in all, comma-separated: one phase of --seconds each (default: back to back)",
    )
    options = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plateau_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    queue = f"mixed-{uuid.uuid4().hex[:8]}"
    stripe_key = "sk_test_" + "benchmixed" * 3  # dj-stripe wants 24+ letters or digits
    sandbox = SandboxServer(
        db_path=Path(tempfile.mkdtemp()) / "stripe.sqlite3", api_keys=(stripe_key,), delivery_workers=4
    ).start()
    # server_env raises the rate limits: the mix is many clients behind one API key and one person.
    env = {
        **server_env(database_url, redis_url),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_API_BASE": sandbox.url,
    }
    ensure_database(database_url)
    print("== migrating the bench database (once; later runs are quick)", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    # The pages name their static files through the manifest, as in production.
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    data = seed(env)
    run_id = uuid.uuid4().hex[:10]

    server, base = serve(env, connections=options.clients)
    worker_cmd = [PY, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "1", "-Q", queue]
    worker_cmd += ["-n", f"{queue}@localhost", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen([*worker_cmd, "-l", "WARNING"], cwd=ROOT, env=env)
    results, lock = [], threading.Lock()
    try:
        wait_until_serving(base)
        port = int(base.rsplit(":", 1)[1])
        bought = purchase_seed(env, base, run_id, count=options.purchases)
        data["buyer_jwt"] = bought["jwt"]
        shop = Shop(bought["slugs"], sandbox.port)
        phases = []
        for rate in [float(r) for r in options.rates.split(",") if r.strip()] or [0.0]:
            offered = f"offering {rate:.0f} requests/s in all" if rate else "back to back"
            print(f"== {options.clients} clients for {options.seconds} s against {base}, {offered}", flush=True)
            mine: list = []
            cpu_before, started = cpu_seconds(server.pid), time.monotonic()
            deadline = started + options.seconds
            interval = options.clients / rate if rate else 0.0
            threads = [
                threading.Thread(target=client_loop, args=(port, deadline, data, run_id, mine, lock, shop, interval))
                for _ in range(options.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            phases.append((rate, mine, time.monotonic() - started, cpu_seconds(server.pid) - cpu_before))
            results.extend(mine)
        sandbox.flush()  # deliveries still waiting for a retry go now
        drained_in = wait_until_queue_drained(redis_url, queue)
        recorded = ledger_count(env, run_id)
        paid = purchases_paid(env, run_id)
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            process.wait(timeout=60)
        sandbox.stop()

    server_errors = 0
    for rate, phase, elapsed, cpu in phases:
        server_errors += phase_report(rate, phase, elapsed, cpu)
    print(f"\nthe Celery queue drained {drained_in:.1f} s after the run")
    tracked = sum(1 for r in results if r[0] == "track-usage" and r[1] == 200)
    print(f"\nusage ledger rows of this run: {recorded}; track-usage answered 200: {tracked}")
    print(f"purchases paid on the site: {paid}; paid in the sandbox's Checkout: {shop.paid_in_sandbox}")
    checks_pass = recorded == tracked and paid == shop.paid_in_sandbox and server_errors == 0
    verdict = "pass (no 5xx or failed connection; every counted use and every payment recorded once)"
    verdict = verdict if checks_pass else "FAIL"
    print("checks: " + verdict)
    return 0 if checks_pass else 1


if __name__ == "__main__":
    sys.exit(main())
