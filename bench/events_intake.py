"""Product events served end to end: API → Redis buffer → table, on the real stack (issue 11's 10,000 events/s).

gunicorn (gthread 2×4, production settings) and a Celery worker (prefork, `--workers`
processes) on PostgreSQL + Redis, all on this machine. wrk posts batches of 100 events
(`POST /api/v1/analytics/events` with an API key holding `events:write`) at
`--connections` for `--seconds`; the worker stores them as the buffer grows (the site asks
for one flush per 100 events pushed). The clock stops when the buffer is empty and the
table has stopped growing.

Reported: events accepted per second by the API (wrk's 2xx answers × 100), events stored
per second end to end (from the first request to the last stored row), and the check:
every event of an answered batch is stored, once (a batch wrk had in flight when it
stopped may be stored without being counted, so stored may exceed answered by at most
`--connections` batches; fewer stored than answered is a loss).

    python bench/events_intake.py [--seconds 20] [--connections 16] [--workers 2]

Environment: BENCH_DATABASE_URL, BENCH_REDIS_URL as for bench/run.py.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import LUA, PY, cpu_seconds, ensure_database, serve, server_env, wait_until_serving, wrk  # noqa: E402

BATCH = 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes storing the events")
    options = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plateau_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    queue = f"events-{uuid.uuid4().hex[:8]}"
    env = {
        **server_env(database_url, redis_url),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "API_THROTTLE_EVENTS": "1000000/second",
    }
    ensure_database(database_url)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    code = "import json; from bench.seed import bench_events_seed; print(json.dumps(bench_events_seed()))"
    seeded = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    api_key = json.loads(seeded.strip().splitlines()[-1])["api_key"]
    run_path = f"/bench/events/{uuid.uuid4().hex[:10]}"
    body = json.dumps(
        {
            "events": [
                {"name": "click", "path": run_path, "anonymous_id": f"v{n}", "properties": {"n": n}}
                for n in range(BATCH)
            ]
        }
    )

    import psycopg
    import redis

    server, base = serve(env, connections=options.connections)
    worker_cmd = [PY, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", str(options.workers)]
    worker_cmd += ["-Q", queue, "-n", f"{queue}@localhost", "--without-gossip", "--without-mingle"]
    worker_cmd += ["--without-heartbeat", "-l", "WARNING"]
    worker = subprocess.Popen(worker_cmd, cwd=ROOT, env=env)
    buffer = redis.Redis.from_url(redis_url)
    buffer_key = f"{env['CACHE_KEY_PREFIX']}:events:buffer"
    try:
        wait_until_serving(base)
        time.sleep(3)  # the worker's start-up, not counted: it consumes nothing before the first batch
        site_cpu, worker_cpu = cpu_seconds(server.pid), cpu_seconds(worker.pid)
        started = time.perf_counter()
        result = wrk(
            base + "/api/v1/analytics/events",
            ["/api/v1/analytics/events", f"Api-Key {api_key}", body],
            connections=options.connections,
            seconds=options.seconds,
            script=LUA,
        )
        accepted_in = time.perf_counter() - started
        site_cpu = cpu_seconds(server.pid) - site_cpu
        with psycopg.connect(database_url, autocommit=True) as db:
            stored, still = -1, 0
            while still < 20:  # 2 s without a new row and an empty buffer
                time.sleep(0.1)
                count = db.execute("SELECT count(*) FROM analytics_event WHERE path = %s", [run_path]).fetchone()[0]
                if count == stored and buffer.llen(buffer_key) == 0:
                    still += 1
                else:
                    stored, still, stored_at = count, 0, time.perf_counter()
        worker_cpu = cpu_seconds(worker.pid) - worker_cpu
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            process.wait(timeout=60)
    answered = (result["requests"] - result["errors"]) * BATCH
    end_to_end = stored_at - started
    print(f"\n== events: batches of {BATCH} at {options.connections} connections for {options.seconds} s")
    print(
        f"accepted   {answered / accepted_in:>9,.0f} events/s by the API ({result['errors']} non-2xx;"
        f" p50 {result['latency_ms'].get('50', 0):.1f} ms, p99 {result['latency_ms'].get('99', 0):.1f} ms per batch;"
        f" site CPU {site_cpu / max(1, answered) * 1e6:.0f} µs per event)"
    )
    print(
        f"stored     {stored / end_to_end:>9,.0f} events/s end to end ({stored:,} stored in {end_to_end:.1f} s by"
        f" {options.workers} worker processes, {worker_cpu / max(1, stored) * 1e6:.0f} µs CPU per event)"
    )
    lost = max(0, answered - stored)
    extra = stored - answered
    ok = lost == 0 and extra <= options.connections * BATCH
    print(f"check      answered {answered:,}, stored {stored:,}: " + ("pass" if ok else "FAIL (events lost)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
