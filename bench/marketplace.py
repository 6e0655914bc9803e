"""Marketplace benchmark: search, browse with filters and a template page on 100,000 templates
and 1,000,000 reviews, against the floor (a bare DRF GET view) in the same run.

The real stack as `bench/run.py` serves it (gunicorn gthread 2×4, PostgreSQL, Redis, DEBUG
off, production settings), driven by wrk from this process on 127.0.0.1. Per round, for each
endpoint: throughput and server CPU per request at 8 connections (--connections), then latency (p50, p95)
at a fixed low load (4 connections offering --low-rps requests/s in all, 100 by default, as
BENCHMARKS.md and bench/run.py measure it). Reported as medians
over rounds, with ratios to the floor.

    python bench/marketplace.py [--rounds 3] [--seconds 5] [--connections 8] [--low-rps 100] [--no-catalogue-cache]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/plateau_mkt_bench, created and
migrated if missing; seeding takes a few minutes once), BENCH_REDIS_URL (default db 14).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402
    LOW_CONNECTIONS,
    PY,
    ROOT,
    cpu_seconds,
    ensure_database,
    serve,
    server_env,
    wait_until_serving,
)

GET_LUA = str(ROOT / "bench" / "get.lua")
API = "/api/v1/marketplace/templates/"
ENDPOINTS = {
    "floor": ["/bench/floor/"],
    # Exact words, a prefix and typos; each query matches thousands of the 100,000 templates.
    "search": [f"{API}?q=launch+email", f"{API}?q=quartely+report", f"{API}?q=onboard", f"{API}?q=churn+analysis"],
    "browse": [
        f"{API}?category=coding&min_rating=3&sort=rating",
        f"{API}?pricing=paid&price_max=20&sort=price",
        f"{API}?category=data&sort=bestselling&page=3",
        f"{API}?tags=checklist&sort=newest",
    ],
    "template page": ["/marketplace/bench-17/", "/marketplace/bench-4242/", "/marketplace/bench-99999/"],
}


def wrk_get(base: str, paths: list[str], *, connections: int, seconds: int, pause_ms: int = 0) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "-s", GET_LUA, base, "--"]
    out = subprocess.run([*command, str(pause_ms), *paths], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    # Requests wrk gave up on (2 s) are in no latency figure: counted as errors, or a slow
    # endpoint would look fast.
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0) + (int(timeouts.group(1)) if timeouts else 0),
        "p50_ms": int(re.search(r"p50_us (\d+)", out).group(1)) / 1000,
        "p95_ms": int(re.search(r"p95_us (\d+)", out).group(1)) / 1000,
    }


def vacuum(database_url: str, tables: list[str]) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        for table in tables:
            connection.execute(f"VACUUM (ANALYZE) {table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    # 32 connections of 1-second searches would queue for minutes on 2 cores: 8 by default.
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--low-rps", type=int, default=100, help="offered load of the latency runs, in all")
    parser.add_argument(
        "--no-catalogue-cache",
        action="store_true",
        help="serve without the catalogue's cache (marketplace/cache.py): every search ranks, every listing counts",
    )
    options = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plateau_mkt_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    env = {**server_env(database_url, redis_url), "DJANGO_SETTINGS_MODULE": "bench.settings"}
    if options.no_catalogue_cache:
        env["BENCH_CATALOGUE_CACHE_SECONDS"] = "0"

    ensure_database(database_url)
    print("== migrating the bench database (once; later runs are quick)", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print("== seeding 100,000 templates and 1,000,000 reviews (once)", flush=True)
    code = "import json; from bench.marketplace_seed import bench_marketplace_seed as s; print(json.dumps(s()))"
    seeded = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    print(seeded.stdout.strip().splitlines()[-1], flush=True)
    # The seed's set-based UPDATEs leave 200,000 dead rows and a long GIN pending list (every
    # full-text index scan reads it) that autovacuum would clear in production before anyone
    # searched; measured here with them, search and browse were 2-3x slower. Quick when clean.
    vacuum(database_url, ["marketplace_prompttemplate", "marketplace_review"])

    # The template page is HTML: production settings serve hashed static files from a manifest.
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    server, base = serve(env, connections=options.connections)
    rounds = []
    try:
        wait_until_serving(base)
        for paths in ENDPOINTS.values():  # warm-up: connections, caches, lazy imports
            wrk_get(base, paths, connections=4, seconds=2)
        for number in range(1, options.rounds + 1):
            row = {}
            for name, paths in ENDPOINTS.items():
                before = cpu_seconds(server.pid)
                row[name] = wrk_get(base, paths, connections=options.connections, seconds=options.seconds)
                row[name]["cpu_us"] = (cpu_seconds(server.pid) - before) / max(1, row[name]["requests"]) * 1e6
            # A fixed offered load (each connection waits between requests), the same for every endpoint.
            pause_ms = round(LOW_CONNECTIONS * 1000 / options.low_rps)
            for name, paths in ENDPOINTS.items():
                row[name]["low"] = wrk_get(
                    base, paths, connections=LOW_CONNECTIONS, seconds=options.seconds, pause_ms=pause_ms
                )
            rounds.append(row)
            print(
                f"round {number}: " + json.dumps({n: {k: v for k, v in r.items()} for n, r in row.items()}), flush=True
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\n== medians over {options.rounds} rounds of {options.seconds} s ({options.connections} connections; "
        f"latency at {LOW_CONNECTIONS} connections offering {options.low_rps} requests/s in all)"
    )
    print(
        f"{'endpoint':<15}{'rps':>8}{'× floor':>9}{'CPU µs/req':>12}{'CPU × floor':>13}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p95 × floor':>13}{'errors':>8}"
    )
    for name in ENDPOINTS:
        pairs = [(r[name], r["floor"]) for r in rounds]

        def median(values) -> float:
            return statistics.median(list(values))

        print(
            f"{name:<15}{median(e['rps'] for e, _ in pairs):>8.0f}"
            f"{median(e['rps'] / f['rps'] for e, f in pairs):>9.2f}"
            f"{median(e['cpu_us'] for e, _ in pairs):>12.0f}"
            f"{median(e['cpu_us'] / f['cpu_us'] for e, f in pairs):>13.2f}"
            f"{median(e['low']['p50_ms'] for e, _ in pairs):>8.1f}"
            f"{median(e['low']['p95_ms'] for e, _ in pairs):>8.1f}"
            f"{median(e['low']['p95_ms'] / f['low']['p95_ms'] for e, f in pairs):>13.2f}"
            f"{sum(e['errors'] + e['low']['errors'] for e, _ in pairs):>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
