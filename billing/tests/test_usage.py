from datetime import UTC, datetime, timedelta

import pytest

from billing.exceptions import FeatureNotMetered, IdempotencyKeyReused, MemberRequired, NotEntitled, QuotaExceeded
from billing.models import BillingEmail, UsageCounter, UsageLedgerEntry
from billing.selectors import access_check
from billing.services.entitlements import entitlements_refresh
from billing.services.reconcile import usage_periods_rollover
from billing.services.usage import usage_release, usage_track
from billing.tests.factories import CYCLE_END, MembershipFactory, SubscriptionStateFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_keys = iter(range(10**6))


def track(org, user, feature, quantity=1, key=None, now=NOW):
    return usage_track(
        organization=org,
        user_id=user.pk if user else None,
        feature=feature,
        quantity=quantity,
        idempotency_key=key or f"k{next(_keys)}",
        now=now,
    )


@pytest.fixture
def free_member():
    membership = MembershipFactory()
    entitlements_refresh(organization=membership.organization, now=NOW)
    return membership


@pytest.fixture
def premium_member():
    state = SubscriptionStateFactory()
    membership = MembershipFactory(organization=state.organization)
    entitlements_refresh(organization=state.organization, now=NOW)
    return membership


def test_free_member_gets_exactly_five_ai_chats_a_day(free_member):
    org, user = free_member.organization, free_member.user
    results = [track(org, user, "ai_chat") for _ in range(5)]
    assert [(r.used, r.remaining) for r in results] == [(1, 4), (2, 3), (3, 2), (4, 1), (5, 0)]
    assert results[-1].resets_at == datetime(2026, 11, 21, tzinfo=UTC)
    with pytest.raises(QuotaExceeded):
        track(org, user, "ai_chat", key="sixth")
    assert UsageCounter.objects.get(organization=org).used == 5
    assert not UsageLedgerEntry.objects.filter(idempotency_key="sixth").exists()


def test_a_released_use_is_given_back_once_and_frees_its_place(free_member):
    org, user = free_member.organization, free_member.user
    for _ in range(4):
        track(org, user, "ai_chat")
    track(org, user, "ai_chat", key="failed")
    assert usage_release(organization=org, idempotency_key="failed", now=NOW) is True
    assert usage_release(organization=org, idempotency_key="failed", now=NOW) is False  # a retry gives nothing more
    assert usage_release(organization=org, idempotency_key="unknown", now=NOW) is False
    assert UsageCounter.objects.get(organization=org).used == 4
    assert access_check(organization_id=org.pk, user_id=user.pk, feature="ai_chat", now=NOW).remaining == 1
    entry = UsageLedgerEntry.objects.get(idempotency_key="failed")
    assert entry.released_at == NOW
    assert track(org, user, "ai_chat", key="failed").used == 4  # a replay of the released key counts nothing
    assert track(org, user, "ai_chat").used == 5


def test_quantity_that_overshoots_is_refused_whole(free_member):
    org, user = free_member.organization, free_member.user
    track(org, user, "ai_chat", quantity=3)
    with pytest.raises(QuotaExceeded):
        track(org, user, "ai_chat", quantity=3)
    assert track(org, user, "ai_chat", quantity=2).remaining == 0


def test_ai_chats_are_counted_per_member(free_member):
    other = MembershipFactory(organization=free_member.organization)
    for _ in range(5):
        track(free_member.organization, free_member.user, "ai_chat")
    assert track(free_member.organization, other.user, "ai_chat").used == 1


def test_per_member_feature_needs_a_member(free_member):
    with pytest.raises(MemberRequired):
        track(free_member.organization, None, "ai_chat")


def test_the_daily_quota_rolls_over_lazily_on_first_use_next_day(free_member):
    org, user = free_member.organization, free_member.user
    for _ in range(5):
        track(org, user, "ai_chat")
    last_second = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(QuotaExceeded):
        track(org, user, "ai_chat", now=last_second)
    next_day = track(org, user, "ai_chat", now=datetime(2026, 11, 21, tzinfo=UTC))
    assert (next_day.used, next_day.remaining) == (1, 4)
    assert UsageCounter.objects.filter(organization=org).count() == 2


def test_same_idempotency_key_counts_once(free_member):
    org, user = free_member.organization, free_member.user
    first = track(org, user, "ai_chat", quantity=2, key="retry-me")
    again = track(org, user, "ai_chat", quantity=2, key="retry-me")
    assert (first.used, again.used) == (2, 2)
    assert UsageLedgerEntry.objects.filter(organization=org).count() == 1


def test_a_key_reused_for_another_feature_quantity_or_member_is_refused_and_counts_nothing(free_member):
    org, user = free_member.organization, free_member.user
    track(org, user, "ai_chat", quantity=1, key="k-1")
    other_member = MembershipFactory(organization=org).user
    for feature, quantity, member in (("ai_chat", 2, user), ("ai_chat", 1, other_member)):
        with pytest.raises(IdempotencyKeyReused):
            track(org, member, feature, quantity=quantity, key="k-1")
    assert UsageLedgerEntry.objects.filter(organization=org).count() == 1
    assert UsageCounter.objects.get(organization=org, user=user).used == 1
    assert not UsageCounter.objects.filter(organization=org, user=other_member).exists()


def test_a_retry_after_the_quota_is_full_is_answered_not_refused(free_member):
    org, user = free_member.organization, free_member.user
    for n in range(5):
        track(org, user, "ai_chat", key=f"chat-{n}")
    assert track(org, user, "ai_chat", key="chat-4").remaining == 0


def test_idempotency_keys_are_per_organization(free_member):
    other = MembershipFactory()
    track(free_member.organization, free_member.user, "ai_chat", key="same")
    assert track(other.organization, other.user, "ai_chat", key="same").used == 1


def test_free_plan_lacks_premium_articles(free_member):
    with pytest.raises(NotEntitled):
        track(free_member.organization, None, "premium_article")
    assert not UsageLedgerEntry.objects.exists()


def test_an_organization_never_refreshed_is_on_free():
    membership = MembershipFactory()
    assert track(membership.organization, membership.user, "ai_chat").limit == 5
    with pytest.raises(NotEntitled):
        track(membership.organization, None, "free_quiz")


def test_boolean_features_are_not_tracked(premium_member):
    with pytest.raises(FeatureNotMetered):
        track(premium_member.organization, None, "article_discount")


def test_premium_gets_three_articles_per_cycle_resetting_at_renewal(premium_member):
    org = premium_member.organization
    assert [track(org, None, "premium_article").remaining for _ in range(3)] == [2, 1, 0]
    with pytest.raises(QuotaExceeded):
        track(org, None, "premium_article")
    # Past the cycle end but before the renewal arrives, the old cycle still applies.
    with pytest.raises(QuotaExceeded):
        track(org, None, "premium_article", now=CYCLE_END + timedelta(hours=1))
    state = org.subscription_state
    state.current_period_start, state.current_period_end = CYCLE_END, datetime(2027, 1, 14, tzinfo=UTC)
    state.save()
    entitlements_refresh(organization=org, now=CYCLE_END + timedelta(hours=1))
    renewed = track(org, None, "premium_article", now=CYCLE_END + timedelta(hours=1))
    assert (renewed.used, renewed.remaining, renewed.resets_at) == (1, 2, datetime(2027, 1, 14, tzinfo=UTC))


def test_a_yearly_subscriber_gets_three_articles_every_billing_month():
    state = SubscriptionStateFactory(
        price_lookup_key="premium_yearly",
        current_period_start=datetime(2026, 11, 14, tzinfo=UTC),
        current_period_end=datetime(2027, 11, 14, tzinfo=UTC),
    )
    org = state.organization
    entitlements_refresh(organization=org, now=NOW)
    assert [track(org, None, "premium_article").remaining for _ in range(3)] == [2, 1, 0]
    with pytest.raises(QuotaExceeded):
        track(org, None, "premium_article")
    assert access_check(organization_id=org.pk, user_id=None, feature="premium_article", now=NOW).resets_at == (
        datetime(2026, 12, 14, tzinfo=UTC)
    )

    next_month = track(org, None, "premium_article", now=datetime(2026, 12, 14, 1, tzinfo=UTC))

    assert (next_month.used, next_month.remaining, next_month.resets_at) == (1, 2, datetime(2027, 1, 14, tzinfo=UTC))


def test_premium_ai_chat_is_unlimited_but_counted(premium_member):
    for _ in range(50):
        result = track(premium_member.organization, premium_member.user, "ai_chat")
    assert (result.unlimited, result.used, result.remaining) == (True, 50, None)


def test_quiz_discounts_are_three_per_calendar_month(premium_member):
    org = premium_member.organization
    for _ in range(3):
        track(org, None, "quiz_discount")
    with pytest.raises(QuotaExceeded):
        track(org, None, "quiz_discount", now=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    december = track(org, None, "quiz_discount", now=datetime(2026, 12, 1, tzinfo=UTC))
    assert (december.used, december.resets_at) == (1, datetime(2027, 1, 1, tzinfo=UTC))


def test_downgrade_caps_the_ongoing_period(premium_member):
    org = premium_member.organization
    track(org, premium_member.user, "ai_chat", quantity=7)
    org.subscription_state.status = "canceled"
    org.subscription_state.save()
    entitlements_refresh(organization=org, now=NOW)
    access = access_check(organization_id=org.pk, user_id=premium_member.user.pk, feature="ai_chat", now=NOW)
    assert (access.limit, access.used, access.remaining, access.allows()) == (5, 7, 0, False)
    with pytest.raises(QuotaExceeded):
        track(org, premium_member.user, "ai_chat")


def test_access_check_reports_limit_used_remaining_and_reset(premium_member):
    org = premium_member.organization
    track(org, None, "premium_article", quantity=2)
    access = access_check(organization_id=org.pk, user_id=None, feature="premium_article", now=NOW)
    assert (access.entitled, access.limit, access.used, access.remaining, access.resets_at) == (
        True,
        3,
        2,
        1,
        CYCLE_END,
    )
    assert access.allows(1) and not access.allows(2)


def test_access_check_for_a_feature_the_plan_lacks(free_member):
    access = access_check(organization_id=free_member.organization.pk, user_id=None, feature="free_quiz", now=NOW)
    assert (access.entitled, access.allows()) == (False, False)


def test_cached_check_is_never_stale_after_a_track(premium_member, django_capture_on_commit_callbacks):
    org = premium_member.organization
    now = datetime.now(tz=UTC)
    assert access_check(organization_id=org.pk, user_id=None, feature="premium_article").remaining == 3
    with django_capture_on_commit_callbacks(execute=True):
        usage_track(organization=org, user_id=None, feature="premium_article", quantity=1, idempotency_key="a", now=now)
    assert access_check(organization_id=org.pk, user_id=None, feature="premium_article").remaining == 2


def test_cached_check_follows_a_refresh(premium_member, django_capture_on_commit_callbacks):
    org = premium_member.organization
    assert access_check(organization_id=org.pk, user_id=None, feature="premium_article").entitled
    org.subscription_state.status = "canceled"
    org.subscription_state.save()
    with django_capture_on_commit_callbacks(execute=True):
        entitlements_refresh(organization=org)
    assert not access_check(organization_id=org.pk, user_id=None, feature="premium_article").entitled


def test_quota_warning_goes_out_once_when_crossing_80_percent(
    free_member, django_capture_on_commit_callbacks, mailoutbox
):
    org, user = free_member.organization, free_member.user
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            track(org, user, "ai_chat", key=f"w{n}")
    assert BillingEmail.objects.count() == 0  # 3 of 5 is 60%
    with django_capture_on_commit_callbacks(execute=True):
        track(org, user, "ai_chat", key="w3")  # 4 of 5: crosses 80%
    with django_capture_on_commit_callbacks(execute=True):
        track(org, user, "ai_chat", key="w4")
    email = BillingEmail.objects.get()
    assert (email.recipient, email.template, email.status, email.attempts) == (user.email, "quota_warning", "sent", 1)
    assert len(mailoutbox) == 1
    assert "You have used 4 of 5 chats this period. The quota resets on 21 Nov 2026." in mailoutbox[0].body
    assert mailoutbox[0].alternatives[0][1] == "text/html"


def test_rollover_task_opens_the_new_day_counter(free_member):
    org, user = free_member.organization, free_member.user
    track(org, user, "ai_chat", quantity=4)
    assert usage_periods_rollover(now=datetime(2026, 11, 21, 0, 5, tzinfo=UTC)) == 1
    fresh = UsageCounter.objects.get(organization=org, period_start=datetime(2026, 11, 21, tzinfo=UTC))
    assert (fresh.used, fresh.limit, fresh.user_id) == (0, 5, user.pk)
    assert usage_periods_rollover(now=datetime(2026, 11, 21, 0, 6, tzinfo=UTC)) == 1  # idempotent: conflict ignored
    assert UsageCounter.objects.filter(organization=org).count() == 2
