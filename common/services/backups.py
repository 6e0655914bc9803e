"""Backups of the whole database: create, read (and refuse), verify, restore, prune.

A backup is one file, `plateau-<UTC time>.plateau-backup`: an uncompressed tar holding
`manifest.json` and the compressed payload (PostgreSQL: `pg_dump` custom format, which
compresses itself; SQLite: a copy made through SQLite's online backup API, gzipped).
The manifest records when, what (vendor, database name), which migrations were applied,
the row count of every table, the Plateau version and the payload's sha256. A
`<file>.sha256` beside it (sha256sum's format) covers the whole file, manifest included.

Row counts and the dump come from one snapshot: on PostgreSQL the counts are read in a
repeatable-read transaction whose exported snapshot `pg_dump --snapshot` then uses; on
SQLite they are read from the copy itself. So the manifest describes exactly the payload
and `backup_verify` can compare the two.

django-dbbackup was considered and not used: it has no manifest, no check of migrations
on restore and no verification, which are most of this module; its SQLite connector dumps
SQL text rather than using the online backup API; and its PostgreSQL connector would
still be `pg_dump` underneath, which this module calls directly in a dozen lines.
"""

import contextlib
import dataclasses
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import InvalidStorageError, storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from common.models import BackupLog

logger = logging.getLogger(__name__)

SUFFIX = ".plateau-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
CHUNK = 1024 * 1024
# A whole backup, verification or restore is bounded: a hung pg_dump must not hang beat.
COMMAND_TIMEOUT_SECONDS = 6 * 3600


class BackupError(Exception):
    """A backup cannot be made, read, verified or restored; the message says why, for an operator."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    format_version: int
    created_at: str
    vendor: str
    database: str
    plateau_version: str
    migrations: list[list[str]]
    row_counts: dict[str, int]
    payload_name: str
    payload_sha256: str
    payload_size: int

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        data = json.loads(raw)
        names = {field.name for field in dataclasses.fields(cls)}
        missing = names - set(data)
        if missing:
            raise BackupError(f"the manifest lacks {', '.join(sorted(missing))}")
        return cls(**{name: data[name] for name in names})

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


# --- the database ------------------------------------------------------------------------


def _db(using: str) -> dict:
    return connections[using].settings_dict


def _vendor(using: str) -> str:
    return connections[using].vendor


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _pg_connect(db: dict, *, dbname: str | None = None, autocommit: bool = False):
    import psycopg

    return psycopg.connect(
        dbname=dbname or db["NAME"],
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=autocommit,
        connect_timeout=10,
    )


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: install Debian's postgresql-client (apt-get)")
    return path


def _run(args: list[str], *, env: dict | None = None) -> None:
    try:
        result = subprocess.run(  # noqa: S603 (fixed tool, arguments we built)
            args, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{Path(args[0]).name} did not finish within {COMMAND_TIMEOUT_SECONDS} s") from error
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_counts(cursor, tables: Iterable[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (a quoted table name)
        counts[table] = cursor.fetchone()[0]
    return counts


def _pg_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in cursor.fetchall()]


def _sqlite_tables(cursor) -> list[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


def _migrations(cursor, tables: list[str]) -> list[list[str]]:
    if "django_migrations" not in tables:
        return []
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[app, name] for app, name in cursor.fetchall()]


def plateau_version() -> str:
    if settings.PLATEAU_VERSION:
        return settings.PLATEAU_VERSION
    head = Path(settings.BASE_DIR) / ".git"
    try:
        result = subprocess.run(  # noqa: S603
            [shutil.which("git") or "git", "-C", str(settings.BASE_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
        if result.returncode == 0 and head.exists():
            return f"git-{result.stdout.strip()}"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "unknown"


def _dump_postgres(*, db: dict, payload: Path) -> tuple[dict[str, int], list[list[str]]]:
    pg_dump = _pg_tool("pg_dump")
    with _pg_connect(db) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = _pg_tables(cursor)
            counts = _row_counts(cursor, tables)
            migrations = _migrations(cursor, tables)
            # The transaction stays open while pg_dump reads the same snapshot.
            _run(
                [pg_dump, "--format=custom", "--compress=6", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={payload}", db["NAME"]],
                env=_pg_env(db),
            )
        conn.rollback()
    return counts, migrations


def _dump_sqlite(*, using: str, payload: Path) -> tuple[dict[str, int], list[list[str]]]:
    connection = connections[using]
    connection.ensure_connection()
    with tempfile.TemporaryDirectory() as scratch:
        copy_path = Path(scratch) / "copy.sqlite3"
        copy = sqlite3.connect(copy_path)
        try:
            connection.connection.backup(copy)
            cursor = copy.cursor()
            tables = _sqlite_tables(cursor)
            counts = _row_counts(cursor, tables)
            migrations = _migrations(cursor, tables)
        finally:
            copy.close()
        with open(copy_path, "rb") as source, gzip.open(payload, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target, CHUNK)
    return counts, migrations


# --- files ---------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def backup_filename(*, at: datetime) -> str:
    return f"plateau-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def backup_time_from_name(name: str) -> datetime | None:
    if not (name.startswith("plateau-") and name.endswith(SUFFIX)):
        return None
    try:
        return datetime.strptime(name[len("plateau-") : -len(SUFFIX)], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _finish(log: BackupLog, *, error: Exception | None = None, **fields) -> BackupLog:
    log.finished_at = timezone.now()
    log.status = BackupLog.Status.FAILED if error else BackupLog.Status.SUCCEEDED
    log.error = str(error) if error else ""
    for name, value in fields.items():
        setattr(log, name, value)
    log.save()
    if error:
        logger.error(
            "%s failed: %s", log.get_kind_display(), error,
            extra={"event": "backup_failed", "context": {"backup_log_id": log.pk, "path": log.path, "kind": log.kind}},
        )
    return log


def backup_create(*, output_dir: Path, triggered_by: str = "command", using: str = DEFAULT_DB_ALIAS) -> BackupLog:
    """Back the database up into one new file in `output_dir`; the log row says how it went.

    Raises BackupError (after recording it) when the backup could not be made.
    """
    output_dir = Path(output_dir)
    db = _db(using)
    vendor = _vendor(using)
    log = BackupLog.objects.create(kind=BackupLog.Kind.BACKUP, triggered_by=triggered_by, database_vendor=vendor)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        path = output_dir / backup_filename(at=log.started_at)
        log.path = str(path)
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".backup-") as scratch:
            payload = Path(scratch) / ("database.pgdump" if vendor == "postgresql" else "database.sqlite3.gz")
            if vendor == "postgresql":
                counts, migrations = _dump_postgres(db=db, payload=payload)
            elif vendor == "sqlite":
                counts, migrations = _dump_sqlite(using=using, payload=payload)
            else:
                raise BackupError(f"backups of {vendor} databases are not supported")
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                created_at=log.started_at.isoformat(),
                vendor=vendor,
                database=str(db["NAME"]),
                plateau_version=plateau_version(),
                migrations=migrations,
                row_counts=counts,
                payload_name=payload.name,
                payload_sha256=_sha256_file(payload),
                payload_size=payload.stat().st_size,
            )
            partial = Path(scratch) / path.name
            with tarfile.open(partial, "w") as archive:
                raw = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size, info.mtime = len(raw), int(log.started_at.timestamp())
                archive.addfile(info, io.BytesIO(raw))
                archive.add(payload, arcname=payload.name)
            checksum = _sha256_file(partial)
            # Appear complete or not at all.
            os.replace(partial, path)
        _sidecar(path).write_text(f"{checksum}  {path.name}\n")
        remote_name = _copy_to_remote(path)
    except Exception as error:
        _finish(log, error=error)
        if isinstance(error, BackupError):
            raise
        raise BackupError(str(error)) from error
    return _finish(
        log, size_bytes=path.stat().st_size, checksum=checksum, row_counts=counts, remote_name=remote_name
    )


def _remote_storage():
    try:
        return storages["backups"]
    except InvalidStorageError:
        return None


def _copy_to_remote(path: Path) -> str:
    """Copy the file to the `backups` storage (S3-compatible by setting); '' when none is configured."""
    storage = _remote_storage()
    if storage is None:
        return ""
    with open(path, "rb") as handle:
        return storage.save(path.name, handle)


@contextlib.contextmanager
def backup_open(*, path: Path) -> Iterator[tuple[Manifest, Path]]:
    """Check a backup file and yield its manifest and its payload extracted to a temporary file.

    Refuses (BackupError) a file that is not a complete Plateau backup: unreadable or
    truncated, a whole-file checksum (the .sha256 beside it) or payload checksum that does
    not match, or a manifest of an unknown format.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    sidecar = _sidecar(path)
    if sidecar.exists():
        expected = (sidecar.read_text().split() or [""])[0]
        actual = _sha256_file(path)
        if expected != actual:
            raise BackupError(
                f"{path.name} does not match its checksum ({sidecar.name} says {expected[:12]}…, "
                f"the file is {actual[:12]}…): it was changed or cut short; nothing was restored"
            )
    with tempfile.TemporaryDirectory(prefix="plateau-restore-") as scratch:
        try:
            with tarfile.open(path, "r:") as archive:
                manifest_member = archive.getmember(MANIFEST_NAME)
                manifest = Manifest.from_json(archive.extractfile(manifest_member).read())
                if manifest.format_version != FORMAT_VERSION:
                    raise BackupError(f"unknown backup format {manifest.format_version}")
                member = archive.getmember(manifest.payload_name)
                payload = Path(scratch) / Path(manifest.payload_name).name
                digest = hashlib.sha256()
                with archive.extractfile(member) as source, open(payload, "wb") as target:
                    for chunk in iter(lambda: source.read(CHUNK), b""):
                        digest.update(chunk)
                        target.write(chunk)
        except BackupError:
            raise
        except (tarfile.TarError, KeyError, EOFError, OSError, ValueError, TypeError) as error:
            raise BackupError(f"{path.name} is not a complete Plateau backup ({error}); nothing was changed") from error
        if digest.hexdigest() != manifest.payload_sha256 or payload.stat().st_size != manifest.payload_size:
            raise BackupError(
                f"{path.name}: the database dump does not match the manifest's checksum (changed or cut short); "
                "nothing was restored"
            )
        yield manifest, payload


def migrations_unknown_to_code(manifest: Manifest) -> list[str]:
    """Migrations the backup's database had applied that this code does not have (a newer release's)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, name in manifest.migrations if (app, name) not in known]


# --- verify ---------------------------------------------------------------------------------


def _scratch_name(db: dict) -> str:
    """A scratch database named after the configured one, so it is obviously its own."""
    suffix = f"_verify_{uuid.uuid4().hex[:8]}"
    return str(db["NAME"])[: 63 - len(suffix)] + suffix


def _restored_counts_postgres(*, db: dict, payload: Path, tables: Iterable[str]) -> dict[str, int]:
    pg_restore = _pg_tool("pg_restore")
    scratch = _scratch_name(db)
    with _pg_connect(db, dbname="postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {_quote(scratch)}")
    try:
        _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "-d", scratch, str(payload)],
             env=_pg_env(db))
        with _pg_connect(db, dbname=scratch) as conn, conn.cursor() as cursor:
            present = set(_pg_tables(cursor))
            return _row_counts(cursor, [t for t in tables if t in present])
    finally:
        with _pg_connect(db, dbname="postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(scratch)} WITH (FORCE)")


@contextlib.contextmanager
def _sqlite_unpacked(payload: Path) -> Iterator[sqlite3.Connection]:
    """The gzipped SQLite copy of a backup, unpacked to a temporary file and opened."""
    with tempfile.TemporaryDirectory() as scratch:
        copy_path = Path(scratch) / "unpacked.sqlite3"
        with gzip.open(payload, "rb") as source, open(copy_path, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        copy = sqlite3.connect(copy_path)
        try:
            yield copy
        finally:
            copy.close()


def _restored_counts_sqlite(*, payload: Path, tables: Iterable[str]) -> dict[str, int]:
    with _sqlite_unpacked(payload) as copy:
        cursor = copy.cursor()
        present = set(_sqlite_tables(cursor))
        return _row_counts(cursor, [t for t in tables if t in present])


def _count_differences(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    return [
        f"{table}: manifest {count}, restored {actual.get(table, 'missing')}"
        for table, count in sorted(expected.items())
        if actual.get(table) != count
    ]


def backup_verify(*, path: Path, triggered_by: str = "command", using: str = DEFAULT_DB_ALIAS) -> BackupLog:
    """Restore the backup into a scratch database (never the live one) and compare every table's row count."""
    log = BackupLog.objects.create(
        kind=BackupLog.Kind.VERIFY, triggered_by=triggered_by, path=str(path), database_vendor=_vendor(using)
    )
    try:
        with backup_open(path=Path(path)) as (manifest, payload):
            if manifest.vendor == "postgresql":
                actual = _restored_counts_postgres(db=_db(using), payload=payload, tables=manifest.row_counts)
            else:
                actual = _restored_counts_sqlite(payload=payload, tables=manifest.row_counts)
        differences = _count_differences(manifest.row_counts, actual)
        if differences:
            raise BackupError("row counts differ after a trial restore: " + "; ".join(differences[:20]))
    except Exception as error:
        _finish(log, error=error)
        if isinstance(error, BackupError):
            raise
        raise BackupError(str(error)) from error
    return _finish(log, checksum=_sha256_file(Path(path)), size_bytes=Path(path).stat().st_size, row_counts=actual)


# --- restore -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RestorePlan:
    """What a restore would overwrite, for the operator to read before saying yes."""

    manifest: Manifest
    target_vendor: str
    target_database: str
    current_row_counts: dict[str, int]

    def describe(self) -> list[str]:
        m = self.manifest
        changed = [
            f"  {table}: {self.current_row_counts.get(table, 0)} rows now → {count} after"
            for table, count in sorted(m.row_counts.items())
            if self.current_row_counts.get(table, 0) != count
        ]
        return [
            f"This replaces every table of the {self.target_vendor} database {self.target_database!r}",
            f"with the backup made {m.created_at} of {m.database!r} (Plateau {m.plateau_version}, "
            f"{len(m.row_counts)} tables, {m.total_rows} rows, {len(m.migrations)} migrations).",
            f"Rows now: {sum(self.current_row_counts.values())}. Tables whose row count changes: {len(changed)}",
            *changed[:50],
        ]


def restore_plan(*, manifest: Manifest, using: str = DEFAULT_DB_ALIAS) -> RestorePlan:
    """Refuse a backup this database cannot take; else say what restoring it would overwrite."""
    vendor = _vendor(using)
    if manifest.vendor != vendor:
        raise BackupError(f"this is a {manifest.vendor} backup; the configured database is {vendor}")
    unknown = migrations_unknown_to_code(manifest)
    if unknown:
        raise BackupError(
            "the backup was made by a newer Plateau: its database has migrations this code does not know "
            f"({', '.join(unknown[:10])}); deploy that release first; nothing was restored"
        )
    with connections[using].cursor() as cursor:
        tables = _pg_tables(cursor) if vendor == "postgresql" else _sqlite_tables(cursor)
        current = _row_counts(cursor, tables)
    return RestorePlan(
        manifest=manifest, target_vendor=vendor, target_database=str(_db(using)["NAME"]), current_row_counts=current
    )


def backup_restore(*, path: Path, triggered_by: str = "command", using: str = DEFAULT_DB_ALIAS) -> BackupLog:
    """Replace the database's contents with the backup's, all or nothing.

    The file is checked completely before anything is touched; PostgreSQL restores in one
    transaction (`pg_restore --single-transaction`), SQLite through the online backup API,
    so a failure leaves the database as it was. The log row is written after the restore
    (the restore replaces the table it would otherwise have been written into).
    """
    started = timezone.now()
    vendor = _vendor(using)
    error: Exception | None = None
    manifest = None
    try:
        with backup_open(path=Path(path)) as (manifest, payload):
            restore_plan(manifest=manifest, using=using)
            if vendor == "postgresql":
                _restore_postgres(db=_db(using), payload=payload, using=using)
            else:
                _restore_sqlite(payload=payload, using=using)
            _settle_restored_logs(manifest=manifest)
    except Exception as caught:
        error = caught
    log = BackupLog(
        kind=BackupLog.Kind.RESTORE, triggered_by=triggered_by, path=str(path), database_vendor=vendor,
        started_at=started, row_counts=manifest.row_counts if manifest and not error else {},
    )
    _finish(log, error=error, size_bytes=Path(path).stat().st_size if Path(path).exists() else None)
    if error is not None:
        if isinstance(error, BackupError):
            raise error
        raise BackupError(str(error)) from error
    return log


def _settle_restored_logs(*, manifest: Manifest) -> None:
    """The restored backup log still shows runs that were going on when the backup was taken.

    The backup being restored was one of them and succeeded (its file was just restored);
    any other cannot be known and is marked interrupted.
    """
    running = BackupLog.objects.filter(status=BackupLog.Status.RUNNING)
    running.filter(kind=BackupLog.Kind.BACKUP, started_at=datetime.fromisoformat(manifest.created_at)).update(
        status=BackupLog.Status.SUCCEEDED, finished_at=timezone.now(), row_counts=manifest.row_counts
    )
    running.update(
        status=BackupLog.Status.FAILED, finished_at=timezone.now(), error="interrupted: the database was restored"
    )


def _restore_postgres(*, db: dict, payload: Path, using: str) -> None:
    pg_restore = _pg_tool("pg_restore")
    connections[using].close()
    _run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", "-d", db["NAME"], str(payload)],
        env=_pg_env(db),
    )


def _restore_sqlite(*, payload: Path, using: str) -> None:
    connection = connections[using]
    connection.ensure_connection()
    with _sqlite_unpacked(payload) as copy:
        copy.backup(connection.connection)


# --- retention ---------------------------------------------------------------------------


def backups_to_keep(*, times: Iterable[datetime], daily: int, weekly: int, monthly: int) -> set[datetime]:
    """Grandfather-father-son: the newest backup of each of the last `daily` days that have one,
    of the last `weekly` ISO weeks and of the last `monthly` months."""
    keep: set[datetime] = set()
    ordered = sorted(set(times), reverse=True)
    for count, bucket in (
        (daily, lambda t: t.date()),
        (weekly, lambda t: t.isocalendar()[:2]),
        (monthly, lambda t: (t.year, t.month)),
    ):
        seen: set = set()
        for moment in ordered:
            key = bucket(moment)
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.add(key)
            keep.add(moment)
    return keep


def backups_prune(*, directory: Path, daily: int, weekly: int, monthly: int) -> list[Path]:
    """Delete the backup files (and their checksums and remote copies) retention does not keep."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = {}
    for path in directory.iterdir():
        moment = backup_time_from_name(path.name)
        if moment is not None:
            found[moment] = path
    keep = backups_to_keep(times=found, daily=daily, weekly=weekly, monthly=monthly)
    pruned = []
    storage = _remote_storage()
    for moment, path in sorted(found.items()):
        if moment in keep:
            continue
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        if storage is not None:
            try:
                if storage.exists(path.name):
                    storage.delete(path.name)
            except Exception as error:  # noqa: BLE001 — the bucket refused or is unreachable: prune the rest
                # A warning reaches the system log (and Sentry); the copy stays in the bucket for its own
                # lifecycle rule or an operator, and the local prune goes on.
                logger.warning("backups: the remote copy %s could not be deleted: %s", path.name, error)
        BackupLog.objects.filter(kind=BackupLog.Kind.BACKUP, path=str(path), pruned_at=None).update(
            pruned_at=timezone.now()
        )
        pruned.append(path)
    return pruned


def backup_latest_path(*, directory: Path) -> Path | None:
    directory = Path(directory)
    if not directory.is_dir():
        return None
    dated = [(backup_time_from_name(p.name), p) for p in directory.iterdir()]
    dated = [(moment, p) for moment, p in dated if moment is not None]
    return max(dated)[1] if dated else None


def backup_verify_failed_notify(*, error: str, path: str = "") -> int:
    """Email every active staff member that a backup could not be verified; returns how many were sent."""
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail

    if not path:  # a failed verification already logged backup_failed; a missing backup has not
        logger.error("backup verification failed: %s", error, extra={"event": "backup_failed"})
    recipients = list(
        get_user_model().objects.filter(is_staff=True, is_active=True).order_by("email").values_list("email", flat=True)
    )
    if not recipients:
        return 0
    body = (
        f"The weekly verification of the newest backup failed.\n\nFile: {path or '(none)'}\nError: {error}\n\n"
        "See the Backup log in the admin and docs/operations.md, section Backups."
    )
    return send_mail("[Plateau] Backup verification failed", body, None, recipients, fail_silently=False)
