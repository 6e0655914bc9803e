"""Billing models django-auditlog tracks: what staff change by hand leaves a trail (actor, before, after)."""

from auditlog.registry import auditlog

from billing.models import ManualDiscount, StaffQuotaGrant


def register_audited_models() -> None:
    auditlog.register(StaffQuotaGrant)
    auditlog.register(ManualDiscount)
