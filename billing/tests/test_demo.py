import pytest

from accounts.demo import seed_demo as seed_accounts
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
