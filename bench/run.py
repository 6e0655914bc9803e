"""`make bench`: the SDK endpoints and the shared API path against the framework's floor, on the real stack.

Serves the site with gunicorn (gthread, 2 workers × 4 threads) on PostgreSQL + Redis,
DEBUG off, and drives it with wrk from this process on 127.0.0.1, as BENCHMARKS.md
asks. The endpoints, interleaved in rounds:

- floor: a bare DRF view, same middleware, no authentication, permission or throttle;
- api-key-ref: the same view with API-key authentication, permission and the API's throttles;
- jwt-ref: the same view with a person's JWT (session family checked) and the throttles;
- check-access, track-usage: the feature-access endpoints SDKs call, with an API key.

The report gives medians of per-round ratios to the floor for throughput at 32
connections and server CPU per request, and latency at a fixed low load (4 connections
offering about 100 requests/s in all), with the absolute figures beside them.

    python bench/run.py [--rounds 5] [--seconds 10] [--connections 32] [--low-rps 100]
    python bench/run.py --webhooks-only [--webhook-events 200] [--webhook-workers 8]
    python bench/run.py --webhook-events 0      # the API endpoints only
    python bench/run.py --mixed [--clients 200] [--seconds 120]   # bench/mixed.py

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/plateau_bench,
created if missing), BENCH_REDIS_URL (default redis://127.0.0.1:6379/13).
"""

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
LUA = str(ROOT / "bench" / "post.lua")
WEBHOOK_LUA = str(ROOT / "bench" / "webhook.lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Latency is measured at a fixed low load: this many connections offering --low-rps requests/s in all.
LOW_CONNECTIONS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, redis_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Required in production; nothing here calls Stripe, and no worker consumes the few tasks published.
        "CELERY_BROKER_URL": redis_url,
        "STRIPE_SECRET_KEY": "sk_test_" + "benchnotused" * 2,
        "CACHE_KEY_PREFIX": "plateau-bench",
        # The rate limits still run (same cost for every endpoint) but must not refuse the load.
        "API_THROTTLE_BURST": "1000000/second",
        "API_THROTTLE_SUSTAINED": "100000000/minute",
        "API_THROTTLE_FEATURES": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONPATH": str(ROOT),
    }


def ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) of the gunicorn master and its workers so far."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, args: list[str], *, connections: int, seconds: int, script: str = LUA) -> dict:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url, "--", *args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = {
        p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)(?:\.\d+)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    return {"rps": rps, "requests": total, "errors": int(non_2xx.group(1)) if non_2xx else 0, "latency_ms": latency}


def webhook_phase(
    *,
    database_url: str,
    redis_url: str,
    events: int,
    workers: int,
    celery_workers: int,
    seconds: int,
    subscribers: int = 1,
) -> None:
    """Signed webhooks from the sandbox to the served site: accepted, then processed by Celery.

    The site answers a delivery once it verified and stored it; a real Celery worker
    (prefork, `celery_workers` processes) on Redis runs dj-stripe's processing and our
    entitlement job. The two are measured one after the other so each has the machine:
    first every delivery is posted with no worker running (accepted per second: all
    answered 2xx), then the worker starts and drains the backlog (processed per second:
    every trigger processed and the queue, acknowledged or not, empty).
    """
    import tempfile

    import psycopg
    import redis
    import stripe

    sys.path.insert(0, str(ROOT))
    from billing.sandbox.server import SandboxServer

    api_key = "sk_test_" + "benchwebhooks" * 2  # dj-stripe wants 24+ letters or digits
    sandbox = SandboxServer(
        db_path=Path(tempfile.mkdtemp()) / "stripe.sqlite3",
        api_keys=(api_key,),
        deliver_in_background=False,
        delivery_workers=workers,
    ).start()
    queue = f"bench-{secrets.token_hex(4)}"
    env = {
        **server_env(database_url, redis_url),
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "STRIPE_SECRET_KEY": api_key,
        "STRIPE_API_BASE": sandbox.url,
    }
    server, base = serve(env, connections=32)
    worker_cmd = [PY, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", str(celery_workers)]
    worker_cmd += ["-Q", queue, "-n", f"{queue}@localhost", "--without-gossip", "--without-mingle"]
    worker_cmd += ["--without-heartbeat", "-l", "WARNING"]
    worker = subprocess.Popen(worker_cmd, cwd=ROOT, env=env)  # for the set-up's events; stopped before measuring
    broker = redis.Redis.from_url(redis_url)
    try:
        with psycopg.connect(database_url, autocommit=True) as db:
            first_id = db.execute("SELECT coalesce(max(id), 0) FROM djstripe_webhookeventtrigger").fetchone()[0]
        wait_until_serving(base)
        code = "import json; from bench.seed import bench_webhook_seed; "
        code += f"print(json.dumps(bench_webhook_seed(base_url={base!r}, subscribers={subscribers})))"
        seeded = subprocess.run(
            [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if seeded.returncode:
            raise RuntimeError(f"seeding the webhook bench failed:\n{seeded.stderr[-3000:]}")
        subscription_ids = json.loads(seeded.stdout.strip().splitlines()[-1])["subscriptions"]
        sandbox.flush()  # the set-up's own events
        with psycopg.connect(database_url, autocommit=True) as db:
            wait_until_drained(db, broker, queue, since_id=first_id)
            since_id = db.execute("SELECT coalesce(max(id), 0) FROM djstripe_webhookeventtrigger").fetchone()[0]
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
            stripe.api_base, stripe.api_key = sandbox.url, api_key
            intake = webhook_intake_capacity(db, base, seconds=seconds, since_id=since_id)
            for key in broker.scan_iter(f"{queue}*"):  # the jobs queued for those removed triggers
                broker.delete(key)
            for number in range(events):
                turn, index = divmod(number, len(subscription_ids))
                stripe.Subscription.modify(subscription_ids[index], cancel_at_period_end=turn % 2 == 0)
            started, site_cpu = time.perf_counter(), cpu_seconds(server.pid)
            results = sandbox.flush()
            accepted_in = time.perf_counter() - started
            accepted_cpu = cpu_seconds(server.pid) - site_cpu
            worker = subprocess.Popen(worker_cmd, cwd=ROOT, env=env)
            # The clock starts at the first processed event, so the worker's start-up is not counted.
            while not (already := processed_count(db, since_id)):
                time.sleep(0.01)
            started, site_cpu, worker_cpu = time.perf_counter(), cpu_seconds(server.pid), cpu_seconds(worker.pid)
            backends, sessions = backends_of(db), sessions_of(db)
            machine = machine_cpu(worker_pid=worker.pid, server_pid=server.pid, backend_pids=backends)
            profile, pg_waits = profile_start(worker.pid), pg_waits_start(database_url)
            wait_until_drained(db, broker, queue, since_id=since_id)
            processed_in = time.perf_counter() - started
            site_cpu, worker_cpu = cpu_seconds(server.pid) - site_cpu, cpu_seconds(worker.pid) - worker_cpu
            backends |= backends_of(db)  # backends opened after the clock started began at zero
            time.sleep(0.5)  # PostgreSQL counts a closed session in its statistics a moment later
            sessions = sessions_of(db) - sessions
            after = machine_cpu(worker_pid=worker.pid, server_pid=server.pid, backend_pids=backends)
            machine = {who: after[who] - machine.get(who, 0.0) for who in after}
            profile_stop(profile)
            profile_stop(pg_waits)
            failed = db.execute(
                "SELECT count(*) FROM djstripe_webhookeventtrigger WHERE id > %s AND exception <> ''", [since_id]
            ).fetchone()[0]
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            process.wait(timeout=30)
        sandbox.stop()
    delivered = sum(1 for r in results if r["status"] == "delivered")
    per_event = 1000 / max(1, len(results))
    print(
        f"\n== webhooks: {delivered}/{len(results)} deliveries answered 2xx, {workers} in flight at once;"
        f" the events concern {subscribers} subscription(s)"
    )
    print(
        f"accepted      {intake['rps']:>9.0f} events/s verified, stored and answered at 32 connections"
        f" (wrk, {intake['errors']} non-2xx; p50 {intake['latency_ms'].get('50', 0):.1f} ms,"
        f" p99 {intake['latency_ms'].get('99', 0):.1f} ms)"
    )
    accepted_line = f"{delivered / accepted_in:>9.0f} events/s posted by the sandbox and answered"
    print(f"delivered     {accepted_line} (site CPU {accepted_cpu * per_event:.1f} ms/event)")
    counted = max(1, delivered - already)
    print(
        f"processed     {(delivered - already) / processed_in:>9.0f} events/s end to end by {celery_workers} Celery"
        f" processes (worker {worker_cpu * 1000 / counted:.1f} + site {site_cpu * 1000 / counted:.1f} ms CPU/event"
        f" from the first processed event on; {failed} recorded a processing error)"
    )
    # Where the wall time went: CPU per processed event by process group while the backlog
    # drained, and the machine's idle share (2 cores: 2 s of CPU per second of wall time).
    print(
        "machine CPU   per processed event, ms: "
        + ", ".join(f"{who} {seconds * 1000 / counted:.1f}" for who, seconds in machine.items())
        + f" ({processed_in:.2f} s of wall time, {processed_in * 1000 / counted:.1f} ms per event;"
        f" {sessions / counted:.2f} PostgreSQL connections opened per event)"
    )


def machine_cpu(*, worker_pid: int, server_pid: int, backend_pids: set[int]) -> dict:
    """CPU seconds so far by who spent them: the worker's and the site's process trees, this
    database's PostgreSQL backends, backends that closed meanwhile (any database's), other
    PostgreSQL processes, Redis, this process (the sandbox answering re-fetches, and the
    polling), everything else; plus the machine's busy and idle time from /proc/stat (all cores)."""
    me = os.getpid()
    parents, ticks, names, reaped = {}, {}, {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        pid = int(entry.name)
        parents[pid], names[pid] = int(fields[1]), head.split("(", 1)[1]
        ticks[pid] = int(fields[11]) + int(fields[12])
        reaped[pid] = int(fields[13]) + int(fields[14])  # children that exited (PostgreSQL's closed backends)

    def under(pid: int, root: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 1)
        return False

    groups = ("worker", "site", "pg backends", "pg closed backends", "pg other", "redis", "bench+sandbox", "other")
    shares = dict.fromkeys(groups, 0.0)
    for pid, used in ticks.items():
        if under(pid, worker_pid):
            who = "worker"
        elif under(pid, server_pid):
            who = "site"
        elif pid in backend_pids:
            who = "pg backends"
        elif names[pid].startswith("postgres"):
            who = "pg other"
        elif names[pid].startswith("redis"):
            who = "redis"
        elif pid == me:
            who = "bench+sandbox"
        else:
            who = "other"
        shares[who] += used / CLK_TCK
        if names[pid].startswith("postgres") and not names.get(parents[pid], "").startswith("postgres"):
            shares["pg closed backends"] += reaped[pid] / CLK_TCK  # the postmaster: every database's
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = (int(cpu[3]) + int(cpu[4])) / CLK_TCK
    shares["machine busy"] = sum(int(v) for v in cpu[:8]) / CLK_TCK - idle
    shares["machine idle"] = idle
    return shares


def backends_of(db) -> set[int]:
    """The PostgreSQL backends connected to the bench database now (the worker's among them), not the bench's own."""
    rows = db.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND application_name <> 'pg_waits'"
    )
    return {row[0] for row in rows}


def sessions_of(db) -> int:
    """Connections ever opened to the bench database (PostgreSQL 14+), this one's included."""
    return db.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def processed_count(db, since_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM djstripe_webhookeventtrigger WHERE id > %s AND processed", [since_id]
    ).fetchone()[0]


def profile_start(pid: int):
    """BENCH_PROFILE=<file>: sample the worker with py-spy (if installed) while it drains.

    BENCH_PROFILE_IDLE=1 samples waits too (the object lock, PostgreSQL round trips).
    """
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        return None
    idle = ["--idle"] if os.environ.get("BENCH_PROFILE_IDLE") else []  # wall time: lock and query waits too
    command = ["py-spy", "record", "--subprocesses", *idle]
    command += ["--format", "raw", "-r", "200", "-o", target, "-p", str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pg_waits_start(database_url: str):
    """BENCH_PG_WAITS=1: sample the bench database's backends (`bench/pg_waits.py`) while the worker drains."""
    if not os.environ.get("BENCH_PG_WAITS"):
        return None
    return subprocess.Popen([PY, str(ROOT / "bench" / "pg_waits.py"), database_url], cwd=ROOT)


def profile_stop(profile) -> None:
    if profile is not None:
        profile.send_signal(signal.SIGINT)
        profile.wait(timeout=60)


def webhook_phase_for(options, *, database_url: str, redis_url: str) -> None:
    webhook_phase(
        database_url=database_url,
        redis_url=redis_url,
        events=options.webhook_events,
        workers=options.webhook_workers,
        celery_workers=options.celery_workers,
        seconds=options.seconds,
        subscribers=options.webhook_subscribers,
    )


def webhook_intake_capacity(db, base: str, *, seconds: int, since_id: int) -> dict:
    """wrk posting one real, correctly signed event at 32 connections, with no worker running.

    Each post is verified and stored as its own trigger, as a retried delivery would be;
    the rows are removed afterwards so the processing measurement starts clean.
    """
    import hashlib
    import hmac

    import stripe

    url, secret = db.execute(
        "SELECT url, secret FROM djstripe_webhookendpoint WHERE url LIKE %s ORDER BY djstripe_id DESC LIMIT 1",
        [base + "/%"],
    ).fetchone()
    event_id = next(iter(stripe.Event.list(limit=1))).id
    body = stripe.Event.retrieve(event_id).last_response.body
    at = int(time.time())
    signature = f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    path = url[len(base) :]
    result = wrk(base + path, [path, signature, body], connections=32, seconds=seconds, script=WEBHOOK_LUA)
    count, previous = -1, None
    while count != previous:  # posts still in flight when wrk stopped
        previous = count
        time.sleep(0.5)
        count = db.execute("SELECT count(*) FROM djstripe_webhookeventtrigger WHERE id > %s", [since_id]).fetchone()[0]
    db.execute("DELETE FROM djstripe_webhookeventtrigger WHERE id > %s", [since_id])
    # Fresh statistics, or the drain's polling (`wait_until_drained`) may scan the whole table
    # 20 times a second beside the worker.
    db.execute("ANALYZE djstripe_webhookeventtrigger")
    return result


def wait_until_drained(db, broker, queue: str, *, since_id: int, limit: float = 300.0) -> None:
    """Until every trigger after `since_id` is processed and the queue holds nothing, acknowledged or not."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pending = db.execute(
            "SELECT count(*) FROM djstripe_webhookeventtrigger WHERE id > %s AND valid AND NOT processed", [since_id]
        ).fetchone()[0]
        if not pending and not broker.llen(queue) and not broker.hlen("unacked"):
            return
        time.sleep(0.05)  # a script polling a worker, not a test
    raise RuntimeError(f"webhooks were still being processed after {limit:.0f} s")


def serve(env: dict, *, connections: int) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production settings file (gthread 2×4) on a free port; the process and its URL."""
    port = free_port()
    command = [GUNICORN, "config.wsgi", "-c", "config/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    # Each worker takes at most its share of wrk's keep-alive connections; otherwise the first
    # worker to wake may accept all of them and the run measures one process (half the rps).
    command += ["--worker-connections", str(max(4, connections // 2)), "--log-level", "warning"]
    print("== serving:", " ".join(command), flush=True)
    return subprocess.Popen(command, cwd=ROOT, env=env), f"http://127.0.0.1:{port}"


def wait_until_serving(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)  # gunicorn is still binding; this is a script, not a test
    raise RuntimeError(f"{base} did not come up")


def main() -> int:
    if "--mixed" in sys.argv[1:]:  # `make bench ARGS="--mixed [--clients N] [--seconds S]"`
        sys.argv.remove("--mixed")
        sys.path.insert(0, str(ROOT))
        from bench.mixed import main as mixed_main

        return mixed_main()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--low-rps", type=int, default=100, help="offered load of the latency runs, in all")
    parser.add_argument("--webhook-events", type=int, default=200, help="0 skips the webhook measurement")
    parser.add_argument("--webhooks-only", action="store_true", help="measure only the webhook phase")
    parser.add_argument("--webhook-workers", type=int, default=8, help="webhook posts in flight at once")
    parser.add_argument("--celery-workers", type=int, default=2, help="Celery worker processes for the webhook phase")
    parser.add_argument(
        "--webhook-subscribers",
        type=int,
        default=1,
        help="spread the webhook events over this many subscriptions (1: a burst about one object)",
    )
    options = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plateau_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    env = server_env(database_url, redis_url)

    ensure_database(database_url)
    print("== migrating the bench database (once; later runs are quick)", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    if options.webhooks_only:
        webhook_phase_for(options, database_url=database_url, redis_url=redis_url)
        return 0
    seed_code = "import json; from bench.seed import bench_seed; print(json.dumps(bench_seed()))"
    seeded = subprocess.run(
        [PY, "manage.py", "shell", "-c", seed_code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])

    server, base = serve(env, connections=options.connections)
    try:
        wait_until_serving(base)
        customer = seed["customer"]
        api_key, jwt = "Api-Key " + seed["api_key"], "Bearer " + seed["jwt"]
        endpoints = {
            "floor": ["/bench/floor/", api_key, "{}"],  # the header is sent and ignored: same bytes
            "api-key-ref": ["/bench/reference/", api_key, "{}"],
            "jwt-ref": ["/bench/reference-jwt/", jwt, "{}"],
            "check-access": [
                "/api/v1/features/check-access/",
                api_key,
                json.dumps({"customer": customer, "feature": "premium_article"}),
            ],
            "track-usage": [
                "/api/v1/features/track-usage/",
                api_key,
                json.dumps({"customer": customer, "feature": "premium_article", "idempotency_key": "{key}"}),
                "unique",
            ],
        }
        for args in endpoints.values():  # warm-up: connections, caches and lazy imports
            wrk(base + args[0], args, connections=4, seconds=2)

        rounds = []
        for number in range(1, options.rounds + 1):
            row = {}
            for name, args in endpoints.items():
                before = cpu_seconds(server.pid)
                result = wrk(base + args[0], args, connections=options.connections, seconds=options.seconds)
                result["cpu_us_per_request"] = (cpu_seconds(server.pid) - before) / max(1, result["requests"]) * 1e6
                row[name] = result
            # Latency at a fixed low load, in the same round: 4 connections offering about
            # --low-rps requests/s in all (each waits between requests), as BENCHMARKS.md asks.
            pause_ms = round(LOW_CONNECTIONS * 1000 / options.low_rps)
            for name, args in endpoints.items():
                low_args = [*args, *([] if len(args) > 3 else ["-"]), str(pause_ms)]
                seconds = max(4, options.seconds)
                row[name]["low"] = wrk(base + args[0], low_args, connections=LOW_CONNECTIONS, seconds=seconds)
            rounds.append(row)
            print(
                f"round {number}: "
                + ", ".join(
                    f"{n} {r['rps']:.0f} rps {r['cpu_us_per_request']:.0f} µs CPU/req"
                    + f" p99 {r['low']['latency_ms'].get('99', float('nan')):.1f} ms at {r['low']['rps']:.0f} rps"
                    + (f" ({r['errors']} non-2xx)" if r["errors"] else "")
                    for n, r in row.items()
                ),
                flush=True,
            )

    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(f"\n== medians over {options.rounds} rounds of {options.seconds} s at {options.connections} connections;")
    print(f"   latency at {LOW_CONNECTIONS} connections offering {options.low_rps} requests/s; × = ratio to the floor")
    print(
        f"{'endpoint':<14}{'rps':>8}{'×':>7}{'CPU µs/req':>12}{'CPU ×':>7}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'p99 ×':>7}{'low rps':>9}"
    )

    def med(name, value):
        return statistics.median(value(r[name], r["floor"]) for r in rounds)

    def p(result, percentile):
        return result["low"]["latency_ms"].get(percentile, float("nan"))

    for name in endpoints:
        p50, p99 = med(name, lambda e, f: p(e, "50")), med(name, lambda e, f: p(e, "99"))
        print(
            f"{name:<14}{med(name, lambda e, f: e['rps']):>8.0f}"
            f"{med(name, lambda e, f: e['rps'] / f['rps']):>7.2f}"
            f"{med(name, lambda e, f: e['cpu_us_per_request']):>12.0f}"
            f"{med(name, lambda e, f: e['cpu_us_per_request'] / f['cpu_us_per_request']):>7.2f}"
            f"{p50:>8.2f}{p99:>8.2f}"
            f"{med(name, lambda e, f: p(e, '99') / p(f, '99')):>7.2f}"
            f"{med(name, lambda e, f: e['low']['rps']):>9.0f}"
        )
    if options.webhook_events:
        webhook_phase_for(options, database_url=database_url, redis_url=redis_url)
    print("\nGoals (BENCHMARKS.md, ratios to the floor): api-key-ref and jwt-ref ≥ 0.7×; check-access ≥ 0.5×,")
    print("CPU ≤ 2×, p99 < 10 ms and ≤ 2× the floor's at low load; track-usage ≥ 0.3×, CPU ≤ 3.5×;")
    print("webhooks accepted ≥ 400/s, processed ≥ 100/s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
