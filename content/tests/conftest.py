import pytest
from django.test import Client

from billing.services.entitlements import entitlements_refresh

# billing's fixtures: the sandbox wired to the live server's webhooks, and a Premium member.
from billing.tests.conftest import billing_site, premium  # noqa: F401
from billing.tests.factories import MembershipFactory


@pytest.fixture
def free_member():
    """A member of an organization on the Free plan."""
    membership = MembershipFactory()
    entitlements_refresh(organization=membership.organization)
    return membership


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


from common.tests.fake_openai import fake_openai  # noqa: E402, F401 (the fixture, for the tutor's tests)
