from datetime import UTC, datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from billing.models import EntitlementGrant, ManualDiscount, StaffQuotaGrant
from billing.services.reconcile import staff_grants_expire
from billing.services.staff import manual_discount_save, staff_quota_grant_delete, staff_quota_grant_save
from billing.tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
LATER = datetime.now(tz=UTC) + timedelta(days=30)


def test_extra_quota_applies_at_once_and_goes_with_the_grant():
    org, staff = OrganizationFactory(), MembershipFactory().user
    grant = StaffQuotaGrant(organization=org, feature="ai_chat", quantity=10, expires_at=LATER, reason="Workshop")
    staff_quota_grant_save(grant=grant, actor=staff)
    chat = EntitlementGrant.objects.get(organization=org, feature="ai_chat")
    assert (chat.limit, chat.source, grant.granted_by) == (15, "plan:free+staff", staff)
    assert LogEntry.objects.get_for_object(grant).count() == 1
    staff_quota_grant_delete(grant=grant)
    assert EntitlementGrant.objects.get(organization=org, feature="ai_chat").limit == 5


def test_a_grant_without_a_reason_is_refused():
    grant = StaffQuotaGrant(organization=OrganizationFactory(), feature="ai_chat", quantity=1, expires_at=LATER)
    with pytest.raises(ValidationError):
        staff_quota_grant_save(grant=grant, actor=None)
    assert not StaffQuotaGrant.objects.exists()


def test_manual_discount_is_kept_with_its_author_and_bounded():
    org, staff = OrganizationFactory(), MembershipFactory().user
    discount = manual_discount_save(
        discount=ManualDiscount(organization=org, percent_off=25, expires_at=LATER, reason="Partner"), actor=staff
    )
    assert (discount.granted_by, discount.item_type) == (staff, "")
    with pytest.raises(ValidationError):
        manual_discount_save(
            discount=ManualDiscount(organization=org, percent_off=101, expires_at=LATER, reason="Oops"), actor=staff
        )
    assert ManualDiscount.objects.count() == 1


def test_an_expired_staff_grant_is_taken_back_by_the_beat_job():
    org = OrganizationFactory()
    grant = StaffQuotaGrant(organization=org, feature="ai_chat", quantity=10, expires_at=LATER, reason="Workshop")
    staff_quota_grant_save(grant=grant, actor=None)
    assert staff_grants_expire(now=LATER) == 1
    assert EntitlementGrant.objects.get(organization=org, feature="ai_chat").limit == 5
