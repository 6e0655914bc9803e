"""Which accounts models django-auditlog tracks (actor, time, before/after of every change).

Registered from AccountsConfig.ready(). Only each model's own columns are tracked:
auditlog would otherwise also read reverse one-to-one relations (a user's profile, an
organization's billing state) on every save. Secrets and fields rewritten on every
request are left out: they would leak into the log or flood it.
"""

from auditlog.registry import auditlog

from accounts.models import ApiKey, Invitation, Membership, Organization, Profile, User


def _own_columns(model, *, exclude: tuple[str, ...] = ()) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if field.name not in exclude]


def register_audited_models() -> None:
    auditlog.register(
        User,
        include_fields=_own_columns(User, exclude=("password", "last_login")),
        m2m_fields={"groups", "user_permissions"},
    )
    auditlog.register(Profile, include_fields=_own_columns(Profile))
    auditlog.register(Organization, include_fields=_own_columns(Organization))
    auditlog.register(Membership, include_fields=_own_columns(Membership))
    auditlog.register(Invitation, include_fields=_own_columns(Invitation, exclude=("token_hash",)))
    auditlog.register(ApiKey, include_fields=_own_columns(ApiKey, exclude=("key_hash", "last_used_at")))
