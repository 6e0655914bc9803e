"""Staff APIs need a named permission, granted through groups in the admin; being staff is not enough."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

METRICS = ["/api/v1/analytics/revenue/", "/api/v1/analytics/top-customers/"]


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("url", METRICS)
def test_staff_without_the_permission_get_403(url):
    response = _client(UserFactory(is_staff=True)).get(url)
    assert response.status_code == 403
    assert response.json()["message"] == "Business metrics need the analytics.view_metrics permission."


@pytest.mark.parametrize("url", METRICS)
def test_staff_in_a_group_holding_the_permission_read_metrics(url):
    finance = Group.objects.create(name="Finance")
    permission = Permission.objects.get(content_type__app_label="analytics", codename="view_metrics")
    finance.permissions.add(permission)
    analyst = UserFactory(is_staff=True)
    analyst.groups.add(finance)
    assert _client(analyst).get(url).status_code == 200


@pytest.mark.parametrize("url", METRICS)
def test_a_member_holding_the_permission_but_not_staff_gets_403(url):
    user = UserFactory(is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="view_metrics"))
    assert _client(user).get(url).status_code == 403


def test_superusers_hold_it(db):
    assert _client(UserFactory(is_staff=True, is_superuser=True)).get(METRICS[0]).status_code == 200


def test_the_permission_is_granted_in_the_admin_group_form(staff_client):
    permission = Permission.objects.get(codename="view_metrics")
    response = staff_client.post("/admin/auth/group/add/", {"name": "Finance", "permissions": [permission.pk]})
    assert response.status_code == 302
    assert list(Group.objects.get(name="Finance").permissions.values_list("codename", flat=True)) == ["view_metrics"]
