"""Log lines a refused request leaves: one WARNING without a traceback; a 500 keeps its traceback."""

import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory


@pytest.mark.django_db
def test_a_refused_page_request_logs_one_line_without_a_traceback(client, caplog):
    member = MembershipFactory(role=Role.BUYER)
    client.force_login(member.user)
    with caplog.at_level("INFO", logger="django.request"):
        assert client.post("/billing/portal/").status_code == 403  # PermissionDenied: buyers cannot open it
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("WARNING", "Forbidden (Permission denied): /billing/portal/", None)
    ]
