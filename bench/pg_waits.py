"""Sample what one database's client backends are doing, every few milliseconds, until SIGINT or SIGTERM.

    python bench/pg_waits.py postgres://…/plateau_bench [--interval 0.005]

Prints how often the backends were seen in each state and wait (`idle in transaction`
waiting on the client, `active` on a lock, on I/O, or running with no wait), then the
non-idle samples by statement. `bench/run.py` starts it for the webhook processing phase
when BENCH_PG_WAITS=1 is set.
"""

import argparse
import collections
import signal
import time

import psycopg

SAMPLE = """
SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(regexp_replace(query, '\\s+', ' ', 'g'), 70)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--interval", type=float, default=0.005)
    options = parser.parse_args()
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    states, statements, samples = collections.Counter(), collections.Counter(), 0
    with psycopg.connect(options.database_url, autocommit=True, application_name="pg_waits") as connection:
        while not stopping:
            samples += 1
            for state, wait_type, wait, query in connection.execute(SAMPLE):
                state = state or "?"
                states[(state, f"{wait_type}:{wait}" if wait_type else "")] += 1
                if state != "idle":
                    statements[(state, f"{wait_type}:{wait}" if wait_type else "", query)] += 1
            time.sleep(options.interval)
    print(f"pg_waits: {samples} samples; backends seen per state and wait (backend-samples):")
    for (state, wait), count in states.most_common():
        print(f"{count:8d}  {state:<22} {wait}")
    print("pg_waits: not idle, by statement:")
    for (state, wait, query), count in statements.most_common(25):
        print(f"{count:8d}  {state:<22} {wait:<26} {query}")


if __name__ == "__main__":
    main()
