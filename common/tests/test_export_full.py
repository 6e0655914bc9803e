import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from common.services import backups

pytestmark = pytest.mark.django_db(transaction=True)


def test_export_full_writes_a_verified_backup_and_every_export(tmp_path):
    get_user_model().objects.create_user(email="ann@example.com", password="x" * 12)
    out = io.StringIO()
    call_command("export_full", "-o", str(tmp_path), stdout=out)

    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("plateau-export-")
    index = json.loads((folder / "index.json").read_text())
    backup_name = next(name for name in index["files"] if name.endswith(".plateau-backup"))
    assert index["files"] == sorted([backup_name, "prompt_templates.csv", "prompt_templates.json", "users.json"])
    assert [u["email"] for u in json.loads((folder / "users.json").read_text())] == ["ann@example.com"]
    assert json.loads((folder / "prompt_templates.json").read_text()) == []
    assert (folder / "prompt_templates.csv").read_text().startswith("id,slug,title,seller,")
    with backups.backup_open(path=folder / backup_name) as (manifest, _):
        assert manifest.row_counts["accounts_user"] == 1
    assert out.getvalue() == f"{folder}: {', '.join(index['files'])}\n"
    assert Path(folder / (backup_name + ".sha256")).exists()
