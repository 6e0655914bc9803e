"""Backups: made, verified, restored exactly; damaged files and newer releases refused with nothing changed."""

import hashlib
import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from common.models import BackupLog
from common.services import backups

pytestmark = pytest.mark.django_db(transaction=True)

# The backup log changes by design across a backup and a restore (each run adds a row).
UNCOMPARED = {"common_backuplog"}


def table_digests() -> dict[str, str]:
    """Every table's rows, order-independent: equal digests mean the same rows, value for value."""
    digests = {}
    with connection.cursor() as cursor:
        for table in sorted(set(connection.introspection.table_names()) - UNCOMPARED):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def make_rows(count: int = 3) -> list:
    User = get_user_model()
    return [User.objects.create_user(email=f"person{i}@example.com", password="x" * 12) for i in range(count)]


def change_everything():
    User = get_user_model()
    User.objects.filter(email="person0@example.com").delete()
    User.objects.filter(email="person1@example.com").update(email="renamed@example.com", is_staff=True)
    User.objects.create_user(email="newcomer@example.com", password="y" * 12)


def run_backup(tmp_path: Path) -> BackupLog:
    call_command("backup", "--output", str(tmp_path), stdout=io.StringIO())
    return BackupLog.objects.filter(kind="backup").latest("started_at")


def test_backup_writes_a_file_a_checksum_a_manifest_and_a_log_row(tmp_path):
    make_rows()
    log = run_backup(tmp_path)
    path = Path(log.path)
    assert log.status == "succeeded" and log.error == ""
    assert path.parent == tmp_path and path.name.endswith(".plateau-backup")
    assert log.size_bytes == path.stat().st_size
    assert log.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / (path.name + ".sha256")).read_text() == f"{log.checksum}  {path.name}\n"
    assert log.row_counts["accounts_user"] == 3
    assert log.finished_at >= log.started_at
    with backups.backup_open(path=path) as (manifest, payload):
        assert manifest.vendor == connection.vendor
        assert manifest.row_counts == log.row_counts
        assert manifest.payload_sha256 == hashlib.sha256(payload.read_bytes()).hexdigest()
        assert manifest.plateau_version


def test_restore_brings_every_row_back(tmp_path):
    make_rows()
    before = table_digests()
    log = run_backup(tmp_path)
    change_everything()
    assert table_digests() != before

    out = io.StringIO()
    call_command("restore", log.path, "--yes", stdout=out)

    assert table_digests() == before
    # 3 users now and after (one gone, one new); only the audit log of those changes shrinks.
    assert "Tables whose row count changes: 1\n  auditlog_logentry: 5 rows now → 3 after\n" in out.getvalue()
    restore = BackupLog.objects.get(kind="restore")
    assert restore.status == "succeeded" and restore.row_counts["accounts_user"] == 3
    # The backup that was running when the snapshot was taken is shown as what it became.
    assert BackupLog.objects.get(kind="backup").status == "succeeded"


def test_restore_refuses_without_yes_and_says_what_it_would_overwrite(tmp_path):
    make_rows()
    log = run_backup(tmp_path)
    change_everything()
    get_user_model().objects.create_user(email="another@example.com", password="z" * 12)
    before = table_digests()
    out = io.StringIO()
    with pytest.raises(CommandError, match="refused: nothing was changed. Run again with --yes"):
        call_command("restore", log.path, stdout=out)
    assert table_digests() == before
    assert "  accounts_user: 4 rows now → 3 after" in out.getvalue()
    assert not BackupLog.objects.filter(kind="restore").exists()


def _damaged_copy(log: BackupLog, tmp_path: Path, how: str) -> Path:
    data = Path(log.path).read_bytes()
    target = tmp_path / "damaged" / Path(log.path).name
    target.parent.mkdir()
    if how == "truncated":
        target.write_bytes(data[: len(data) // 2])
    else:  # one byte flipped in the middle of the dump
        with tarfile.open(log.path) as archive:
            member = [m for m in archive.getmembers() if m.name != "manifest.json"][0]
        position = member.offset_data + member.size // 2
        target.write_bytes(data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :])
    return target


@pytest.mark.parametrize("how", ["truncated", "tampered"])
def test_a_damaged_file_is_refused_and_nothing_changes(tmp_path, how):
    make_rows()
    log = run_backup(tmp_path)
    damaged = _damaged_copy(log, tmp_path, how)  # no .sha256 beside it: the manifest's checksum must catch it
    change_everything()
    before = table_digests()
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(damaged), "--yes", stdout=io.StringIO())
    message = str(refused.value)
    assert message.startswith("refused: ")
    assert ("not a complete Plateau backup" in message) or ("does not match the manifest's checksum" in message)
    assert table_digests() == before


def test_the_checksum_file_catches_a_changed_manifest(tmp_path):
    make_rows()
    log = run_backup(tmp_path)
    path = Path(log.path)
    data = path.read_bytes().replace(b'"accounts_user": 3', b'"accounts_user": 9')
    path.write_bytes(data)
    before = table_digests()
    with pytest.raises(CommandError, match=r"does not match its checksum .* it was changed or cut short"):
        call_command("restore", str(path), "--yes", stdout=io.StringIO())
    assert table_digests() == before


def _rewrite_manifest(path: Path, target: Path, **changes) -> Path:
    with tarfile.open(path) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        manifest.update(changes)
        payload_member = archive.getmember(manifest["payload_name"])
        payload = archive.extractfile(payload_member).read()
    with tarfile.open(target, "w") as archive:
        raw = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        archive.addfile(info, io.BytesIO(raw))
        info = tarfile.TarInfo(payload_member.name)
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return target


def test_a_backup_of_a_newer_release_is_refused(tmp_path):
    make_rows()
    log = run_backup(tmp_path)
    newer = _rewrite_manifest(
        Path(log.path), tmp_path / "newer.plateau-backup",
        migrations=[["accounts", "0001_initial"], ["billing", "9999_from_the_future"]],
    )
    change_everything()
    before = table_digests()
    with pytest.raises(CommandError, match=r"newer Plateau: .*billing\.9999_from_the_future"):
        call_command("restore", str(newer), "--yes", stdout=io.StringIO())
    assert table_digests() == before


def test_verify_restores_into_a_scratch_database_and_compares_row_counts(tmp_path):
    make_rows()
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path), "--verify", stdout=out)
    assert "verified: every table's row count matches" in out.getvalue()
    verify = BackupLog.objects.get(kind="verify")
    assert verify.status == "succeeded"
    assert verify.row_counts["accounts_user"] == 3
    assert get_user_model().objects.count() == 3  # the live database was not touched
    if connection.vendor == "postgresql":  # the scratch database is gone
        with connection.cursor() as cursor:
            pattern = f"{connection.settings_dict['NAME']}_verify_%"
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [pattern])
            assert cursor.fetchall() == []


def test_verify_fails_when_the_manifest_lies_and_the_failure_is_logged(tmp_path):
    make_rows()
    log = run_backup(tmp_path)
    counts = dict(log.row_counts, accounts_user=99)
    lying = _rewrite_manifest(Path(log.path), tmp_path / "lying.plateau-backup", row_counts=counts)
    with pytest.raises(backups.BackupError, match="accounts_user: manifest 99, restored 3"):
        backups.backup_verify(path=lying)
    verify = BackupLog.objects.get(kind="verify")
    assert verify.status == "failed" and "accounts_user: manifest 99, restored 3" in verify.error


def test_the_weekly_verification_emails_staff_when_it_fails(tmp_path, settings, mailoutbox):
    settings.BACKUP_DIR = tmp_path
    get_user_model().objects.create_user(email="ops@example.com", password="x" * 12, is_staff=True)
    from common.tasks import backup_verify_scheduled

    assert backup_verify_scheduled() is False  # no backup at all
    assert [m.to for m in mailoutbox] == [["ops@example.com"]]
    assert mailoutbox[0].subject == "[Plateau] Backup verification failed"
    assert f"there is no backup to verify in {tmp_path}" in mailoutbox[0].body


def test_the_scheduled_backup_makes_one_and_prunes(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path
    old = tmp_path / backups.backup_filename(at=datetime(2020, 1, 1, tzinfo=UTC))
    old.write_bytes(b"old")
    (tmp_path / (old.name + ".sha256")).write_text("x")
    settings.BACKUP_KEEP_DAILY, settings.BACKUP_KEEP_WEEKLY, settings.BACKUP_KEEP_MONTHLY = 1, 0, 0
    from common.tasks import backup_scheduled

    made = backup_scheduled()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([Path(made).name, Path(made).name + ".sha256"])


def test_retention_keeps_the_newest_of_each_day_week_and_month():
    start = datetime(2026, 1, 1, 3, tzinfo=UTC)
    times = [start + timedelta(days=d) for d in range(120)] + [start + timedelta(days=119, hours=5)]
    keep = backups.backups_to_keep(times=times, daily=3, weekly=2, monthly=2)
    newest = start + timedelta(days=119, hours=5)  # 2026-04-30 08:00, a Thursday
    assert keep == {
        newest,  # day 1, week 18, April
        start + timedelta(days=118),  # 2026-04-29 (day 2)
        start + timedelta(days=117),  # 2026-04-28 (day 3)
        start + timedelta(days=115),  # Sunday 2026-04-26: newest of ISO week 17
        start + timedelta(days=89),  # 2026-03-31: newest of March
    }


def test_a_missing_pg_dump_is_reported_plainly(monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(backups.BackupError, match="pg_dump is not installed: install Debian's postgresql-client"):
        backups._pg_tool("pg_dump")


@pytest.mark.services
def test_postgres_demo_data_round_trip_through_pg_dump_custom_format(require_postgres, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    before = table_digests()
    log = run_backup(tmp_path)
    with backups.backup_open(path=Path(log.path)) as (manifest, payload):
        assert payload.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        assert manifest.row_counts["marketplace_prompttemplate"] > 0
    with connection.cursor() as cursor:
        # A row nothing refers to (the demo's templates now have reviews pointing at them).
        cursor.execute("DELETE FROM billing_entitlementgrant WHERE id = (SELECT MIN(id) FROM billing_entitlementgrant)")
        cursor.execute("UPDATE accounts_organization SET name = name || ' (changed)'")
    get_user_model().objects.filter(is_staff=True).delete()
    assert table_digests() != before

    call_command("restore", log.path, "--yes", stdout=io.StringIO())

    assert table_digests() == before
    # Sequences came back too: the next row does not collide with a restored one.
    get_user_model().objects.create_user(email="after-restore@example.com", password="x" * 12)


def test_a_second_copy_goes_to_the_backups_storage_and_retention_prunes_it_there(tmp_path, settings):
    remote = tmp_path / "remote"
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(remote)}},
    }
    make_rows()
    log = run_backup(tmp_path / "local")
    assert log.remote_name == Path(log.path).name
    assert (remote / log.remote_name).read_bytes() == Path(log.path).read_bytes()

    old = tmp_path / "local" / backups.backup_filename(at=datetime(2020, 1, 1, tzinfo=UTC))
    old.write_bytes(b"old")
    (remote / old.name).write_bytes(b"old")
    pruned = backups.backups_prune(directory=tmp_path / "local", daily=1, weekly=0, monthly=0)
    assert pruned == [old]
    assert sorted(p.name for p in remote.iterdir()) == [log.remote_name]


@pytest.fixture
def s3_bucket(monkeypatch):
    """An S3-compatible server (moto's, in this process) on 127.0.0.1 at a free port, with one empty bucket.

    Yields the `OPTIONS` of a django-storages S3Storage pointed at it. The credentials are
    given explicitly (moto accepts any), so boto3 never looks for others (the instance
    metadata endpoint included, which is also switched off: nothing leaves 127.0.0.1).
    """
    import boto3
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {
            "bucket_name": "plateau-backups",
            "endpoint_url": f"http://{host}:{port}",
            "access_key": "test-access-key",
            "secret_key": "test-secret-key",
            "region_name": "eu-west-1",
        }
        client = boto3.client(
            "s3", endpoint_url=options["endpoint_url"], region_name=options["region_name"],
            aws_access_key_id=options["access_key"], aws_secret_access_key=options["secret_key"],
        )
        client.create_bucket(
            Bucket=options["bucket_name"],
            CreateBucketConfiguration={"LocationConstraint": options["region_name"]},
        )
        yield client, options
    finally:
        server.stop()


def _bucket_keys(client, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_a_second_copy_goes_to_an_s3_bucket_and_retention_prunes_it_there(tmp_path, settings, s3_bucket):
    client, options = s3_bucket
    bucket = options["bucket_name"]
    # What BACKUP_REMOTE_STORAGE=storages.backends.s3.S3Storage and BACKUP_REMOTE_OPTIONS build in settings.py.
    settings.STORAGES = {
        **settings.STORAGES, "backups": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["backups"], S3Storage)  # the changed setting reached Django's storages
    make_rows()
    log = run_backup(tmp_path / "local")
    local = Path(log.path).read_bytes()
    assert log.status == "succeeded" and log.remote_name == Path(log.path).name
    assert _bucket_keys(client, bucket) == [log.remote_name]
    stored = client.get_object(Bucket=bucket, Key=log.remote_name)["Body"].read()
    assert stored == local
    assert hashlib.sha256(stored).hexdigest() == log.checksum

    old = tmp_path / "local" / backups.backup_filename(at=datetime(2020, 1, 1, tzinfo=UTC))
    old.write_bytes(b"old")
    client.put_object(Bucket=bucket, Key=old.name, Body=b"old")
    assert _bucket_keys(client, bucket) == sorted([old.name, log.remote_name])
    pruned = backups.backups_prune(directory=tmp_path / "local", daily=1, weekly=0, monthly=0)
    assert pruned == [old]
    assert _bucket_keys(client, bucket) == [log.remote_name]


def test_a_remote_copy_that_cannot_be_deleted_does_not_stop_the_prune(tmp_path, settings, monkeypatch, caplog):
    """The bucket unreachable (or refusing, e.g. no ListBucket permission): local pruning goes on, it is logged."""
    from botocore.config import Config

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    options = {
        "bucket_name": "plateau-backups", "endpoint_url": "http://127.0.0.1:1", "access_key": "k",
        "secret_key": "s", "region_name": "eu-west-1",
        "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
    }
    settings.STORAGES = {
        **settings.STORAGES, "backups": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    folder = tmp_path / "local"
    folder.mkdir()
    old = folder / backups.backup_filename(at=datetime(2020, 1, 1, tzinfo=UTC))
    new = folder / backups.backup_filename(at=datetime(2026, 12, 1, tzinfo=UTC))
    old.write_bytes(b"old")
    new.write_bytes(b"new")

    with caplog.at_level("WARNING", logger="common.services.backups"):
        pruned = backups.backups_prune(directory=folder, daily=1, weekly=0, monthly=0)

    assert pruned == [old]
    assert (old.exists(), new.exists()) == (False, True)
    assert f"the remote copy {old.name} could not be deleted" in caplog.text


def test_beat_backs_up_daily_verifies_weekly_and_prunes_the_system_log(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    backup, verify = schedule["operations-backup"], schedule["operations-backup-verify"]
    assert backup["task"] == "common.tasks.backup_scheduled"
    assert (backup["schedule"].hour, backup["schedule"].minute) == ({settings.BACKUP_HOUR}, {0})
    assert verify["task"] == "common.tasks.backup_verify_scheduled"
    assert verify["schedule"].day_of_week == {0}  # Sunday
    assert schedule["operations-system-log-prune"]["task"] == "common.tasks.system_log_prune"
    assert schedule["operations-beat-heartbeat"]["task"] == "common.tasks.beat_heartbeat"
