"""What staff grant by hand: extra quota and manual discounts (with expiry and reason)."""

from django.db import transaction

from billing.models import ManualDiscount, StaffQuotaGrant
from billing.services.entitlements import entitlements_refresh


def staff_quota_grant_save(*, grant: StaffQuotaGrant, actor) -> StaffQuotaGrant:
    """Create or change an extra-quota grant; the organization's grants follow at once."""
    with transaction.atomic():
        if grant.pk is None:
            grant.granted_by = actor
        grant.full_clean()
        grant.save()
        entitlements_refresh(organization=grant.organization)
    return grant


def staff_quota_grant_delete(*, grant: StaffQuotaGrant) -> None:
    with transaction.atomic():
        organization = grant.organization
        grant.delete()
        entitlements_refresh(organization=organization)


def manual_discount_save(*, discount: ManualDiscount, actor) -> ManualDiscount:
    """Create or change a manual discount; it applies to checkouts started from now on."""
    if discount.pk is None:
        discount.granted_by = actor
    discount.full_clean()
    discount.save()
    return discount
