import pytest

from accounts.demo import CUSTOMER_EMAIL
from accounts.demo import seed_demo as seed_accounts
from accounts.models import Organization, User
from billing.demo import seed_demo
from billing.models import UsageCounter, UsageLedgerEntry
from billing.selectors import access_check

pytestmark = pytest.mark.django_db


def test_demo_organization_is_premium_with_some_usage_and_a_rerun_adds_nothing():
    seed_accounts()
    seed_demo()
    seed_demo()
    org = UsageLedgerEntry.objects.first().organization
    article = access_check(organization_id=org.pk, user_id=None, feature="premium_article", cached=False)
    assert (article.limit, article.used) == (3, 2)
    assert UsageLedgerEntry.objects.count() == 3
    assert sorted(UsageCounter.objects.values_list("feature", "used")) == [
        ("ai_chat", 3),
        ("free_quiz", 1),
        ("premium_article", 2),
    ]


def test_the_demo_customer_finds_acme_premium_from_their_billing_page(client):
    seed_accounts()
    seed_demo()
    client.force_login(User.objects.get(email=CUSTOMER_EMAIL))
    html = client.get("/billing/settings/").content.decode()
    acme = Organization.objects.get(name="Acme AI")
    assert f'href="/billing/settings/?org={acme.pk}" data-org="{acme.pk}">Acme AI · Premium</a>' in html
    html = client.get(f"/billing/settings/?org={acme.pk}").content.decode()
    assert "Plan: Premium" in html
    assert "2 of 3 premium articles used this cycle" in html
    assert "Payment method and billing portal" in html  # an admin of Acme
