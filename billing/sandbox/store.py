"""The sandbox's state: Stripe objects, idempotent replies, webhook deliveries, the clock.

One SQLite file (under `.sandbox/` by default) so state survives a restart. Objects are
stored as the JSON Stripe would return, plus an `internal` JSON the API never shows (the
card number's behaviour, for instance). All access goes through one re-entrant lock:
the sandbox is a development tool, and serial writes keep every request atomic.
"""

import json
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, seq INTEGER NOT NULL,
    data TEXT NOT NULL, internal TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS objects_type_seq ON objects (type, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, method TEXT NOT NULL, path TEXT NOT NULL, params TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
    log TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        # A development tool: losing the last write on a power cut is fine, waiting on fsync is not.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)

    # --- transactions -------------------------------------------------------------
    def __enter__(self):
        self.lock.acquire()
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            keep = exc_type is None or getattr(exc, "keep_changes", False)
            self.db.execute("COMMIT" if keep else "ROLLBACK")
        finally:
            self.lock.release()
        return False

    def reset(self) -> None:
        with self.lock:
            self.db.executescript(
                "DROP TABLE IF EXISTS objects; DROP TABLE IF EXISTS idempotency;"
                " DROP TABLE IF EXISTS deliveries; DROP TABLE IF EXISTS meta;" + SCHEMA
            )

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # --- objects ------------------------------------------------------------------
    def get(self, object_id: str) -> dict | None:
        row = self.db.execute("SELECT data FROM objects WHERE id = ?", (object_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def internal(self, object_id: str) -> dict:
        row = self.db.execute("SELECT internal FROM objects WHERE id = ?", (object_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def put(self, obj: dict, internal: dict | None = None, *, kind: str | None = None) -> dict:
        kind = kind or obj["object"]
        row = self.db.execute("SELECT seq, internal FROM objects WHERE id = ?", (obj["id"],)).fetchone()
        if row:
            merged = {**json.loads(row[1]), **(internal or {})}
            self.db.execute(
                "UPDATE objects SET data = ?, internal = ?, type = ? WHERE id = ?",
                (json.dumps(obj), json.dumps(merged), kind, obj["id"]),
            )
        else:
            seq = self.next_number("object_seq")
            self.db.execute(
                "INSERT INTO objects (id, type, seq, data, internal) VALUES (?, ?, ?, ?, ?)",
                (obj["id"], kind, seq, json.dumps(obj), json.dumps(internal or {})),
            )
        return obj

    def delete(self, object_id: str) -> None:
        self.db.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def all(self, kind: str) -> list[dict]:
        """Every object of a type, newest first (Stripe's list order)."""
        rows = self.db.execute("SELECT data FROM objects WHERE type = ? ORDER BY seq DESC", (kind,))
        return [json.loads(row[0]) for row in rows]

    # --- counters and settings ----------------------------------------------------
    def meta_get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, key: str, value) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def next_number(self, key: str) -> int:
        number = self.meta_get(key, 0) + 1
        self.meta_set(key, number)
        return number

    # --- idempotency --------------------------------------------------------------
    def idempotent_reply(self, key: str):
        row = self.db.execute(
            "SELECT method, path, params, status, body FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        return row

    def save_idempotent_reply(self, key: str, method: str, path: str, params: str, status: int, body: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO idempotency (key, method, path, params, status, body) VALUES (?, ?, ?, ?, ?, ?)",
            (key, method, path, params, status, body),
        )

    # --- deliveries ---------------------------------------------------------------
    def add_delivery(self, event_id: str, endpoint_id: str, due: float) -> None:
        self.db.execute(
            "INSERT INTO deliveries (event_id, endpoint_id, status, next_attempt_at) VALUES (?, ?, 'pending', ?)",
            (event_id, endpoint_id, due),
        )

    def pending_deliveries(self, due_before: float | None) -> list[dict]:
        query = "SELECT id, event_id, endpoint_id, attempts, log FROM deliveries WHERE status = 'pending'"
        args: tuple = ()
        if due_before is not None:
            query += " AND next_attempt_at <= ?"
            args = (due_before,)
        rows = self.db.execute(query + " ORDER BY id", args).fetchall()
        return [
            {"id": r[0], "event_id": r[1], "endpoint_id": r[2], "attempts": r[3], "log": json.loads(r[4])} for r in rows
        ]

    def next_delivery_due(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'").fetchone()
        return row[0]

    def update_delivery(
        self, delivery_id: int, *, status: str, attempts: int, next_attempt_at: float, log: list
    ) -> None:
        self.db.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, log = ? WHERE id = ?",
            (status, attempts, next_attempt_at, json.dumps(log), delivery_id),
        )

    def deliveries(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, event_id, endpoint_id, status, attempts, log FROM deliveries ORDER BY id"
        ).fetchall()
        return [
            {
                "id": r[0],
                "event_id": r[1],
                "endpoint_id": r[2],
                "status": r[3],
                "attempts": r[4],
                "log": json.loads(r[5]),
            }
            for r in rows
        ]
