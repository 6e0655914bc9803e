"""CPU per request of the API's shared path, in one process, without load: steady on a busy machine.

wrk's figures swing with whatever else the machine runs; the CPU one request costs in a
single process does not (much). This runs the bench endpoints of `bench/run.py` through
Django's WSGI handler (the production settings, PostgreSQL and Redis), N times each,
interleaved, and prints CPU µs per request and the ratio to the floor; `--profile NAME`
prints where that endpoint's time goes (cProfile, sorted by own time).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/plateau_perf_bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/profile_api.py [--requests 2000] [--rounds 3] [--profile track-usage]

It measures Python's share only (the client's request building is included for every
endpoint alike); PostgreSQL's and Redis's own CPU is not in it. bench/run.py stays the
measure of record.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="an endpoint to profile after the rounds")
    parser.add_argument("--top", type=int, default=35)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from run import ensure_database, server_env

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plateau_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    ensure_database(database_url)
    env = server_env(database_url, redis_url)
    env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test import Client

    from bench.seed import bench_seed

    seed = bench_seed()
    customer = seed["customer"]
    api_key, jwt = "Api-Key " + seed["api_key"], "Bearer " + seed["jwt"]
    endpoints = {
        "floor": ("/bench/floor/", api_key, lambda: {}),
        "api-key-ref": ("/bench/reference/", api_key, lambda: {}),
        "jwt-ref": ("/bench/reference-jwt/", jwt, lambda: {}),
        "check-access": (
            "/api/v1/features/check-access/",
            api_key,
            lambda: {"customer": customer, "feature": "premium_article"},
        ),
        "track-usage": (
            "/api/v1/features/track-usage/",
            api_key,
            lambda: {"customer": customer, "feature": "premium_article", "idempotency_key": uuid.uuid4().hex},
        ),
    }
    client = Client(HTTP_HOST="127.0.0.1")

    def run(name: str, count: int) -> float:
        path, auth, body = endpoints[name]
        started = time.process_time()
        for _ in range(count):
            response = client.post(path, json.dumps(body()), content_type="application/json", HTTP_AUTHORIZATION=auth)
            if response.status_code >= 300:
                raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
        return (time.process_time() - started) / count * 1e6

    for name in endpoints:  # warm-up: connections, caches, lazy imports
        run(name, 50)
    per_round = {name: [] for name in endpoints}
    for number in range(1, options.rounds + 1):
        figures = {name: run(name, options.requests) for name in endpoints}
        for name, micro in figures.items():
            per_round[name].append((micro, micro / figures["floor"]))
        print(f"round {number}: " + ", ".join(f"{n} {m:.0f} µs" for n, m in figures.items()), flush=True)

    print(f"\n{'endpoint':<14} {'CPU µs/req (median)':>20} {'× floor (median)':>18}")
    for name, values in per_round.items():
        micro = statistics.median(v[0] for v in values)
        ratio = statistics.median(v[1] for v in values)
        print(f"{name:<14} {micro:>20.0f} {ratio:>18.2f}")

    print(f"\n{'endpoint':<14} {'SQL statements':>15} {'Redis commands':>15}   (per request, with what they are)")
    for name in endpoints:
        statements, commands = round_trips(partial(run, name, 1))
        print(f"{name:<14} {len(statements):>15} {len(commands):>15}")
        for line in statements + commands:
            print(f"{'':<16}{line[:150]}")

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(options.profile, options.requests)
        profiler.disable()
        print(f"\n== {options.profile}: cProfile over {options.requests} requests, by own time")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(options.top)
        print(f"\n== {options.profile}: by cumulative time")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(options.top)


def round_trips(call) -> tuple[list[str], list[str]]:
    """The SQL statements (with BEGIN/COMMIT) and Redis commands one call sends."""
    from django.db import connection
    from redis.connection import AbstractConnection

    statements, commands = [], []

    def record_sql(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    original_send = AbstractConnection.send_command

    def send_command(self, *args, **kwargs):
        commands.append("redis: " + " ".join(str(a)[:40] for a in args[:3]))
        return original_send(self, *args, **kwargs)

    AbstractConnection.send_command = send_command
    try:
        with connection.execute_wrapper(record_sql):
            call()
    finally:
        AbstractConnection.send_command = original_send
    return statements, commands


if __name__ == "__main__":
    main()
