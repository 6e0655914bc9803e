"""Billing models django-auditlog tracks: what staff change by hand leaves a trail (actor, before, after)."""

from auditlog.registry import auditlog

from billing.models import ManualDiscount, Purchase, StaffQuotaGrant


def register_audited_models() -> None:
    auditlog.register(StaffQuotaGrant)
    auditlog.register(ManualDiscount)
    # Money moved back (refunds by staff or in Stripe): status and refunded amount, with the actor when a person.
    auditlog.register(Purchase, include_fields=["status", "refunded_amount"])
