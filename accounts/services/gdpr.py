"""GDPR: export everything we hold about a person, and erase it on request.

The export walks the relations we know (profile, memberships, sessions, keys, audit
entries…) and then every other model that points at the user, so data added by later
apps shows up without this module learning about it. Columns that hold secrets are
never exported.

Deletion keeps the user row as an anonymous tombstone: other records (audit entries,
financial records the law makes us keep) may still point at it, but nothing in it
identifies the person any more.

Apps above accounts (billing, content, marketplace) may not be imported here, so they
register what they add from their AppConfig.ready(), as billing's purchasables do:
- `gdpr_export_section_register(section=..., export=fn, covers=[model labels])`: `fn(user)`
  returns the JSON-able data of one top-level section of the export (purchases, tutor chats
  with their messages…); the models it covers are left out of the generic "other" walk.
- `account_deletion_step_register(name=..., step=fn)`: `fn(user=..., organizations_closing=[...])`
  runs inside the deletion's transaction before anything is erased, with the organizations
  the person is the only member of (they are removed or left empty). Billing cancels their
  live subscriptions. A step that cannot do its part raises `AccountDeletionFailed`: the
  whole deletion is rolled back and the person is told why. What a step returns (a dict) is
  kept on the deletion's audit entry; its "notice", if any, is shown to the person.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import ApiKey, AuthSession, Invitation, LoginEvent, Membership, Organization, Profile, Role, User

# A column whose name contains one of these holds a credential; it never leaves the database.
SECRET_FIELD_MARKERS = ("password", "hash", "secret", "token", "session_key")
ERASED = "[erased]"
AXES_MODELS = (AccessAttempt, AccessFailureLog, AccessLog)
AXES_FIELDS = ["attempt_time", "ip_address", "user_agent", "path_info", "failures_since_start", "locked_out"]
AUTHENTICATOR_FIELDS = ["id", "type", "created_at", "last_used_at"]
AUDIT_ENTRY_FIELDS = [
    "id",
    "content_type",
    "object_pk",
    "object_repr",
    "action",
    "changes",
    "timestamp",
    "remote_addr",
    "additional_data",
]


@dataclass(frozen=True)
class ExportSection:
    export: Callable[[User], Any]
    covers: frozenset[str]


_EXPORT_SECTIONS: dict[str, ExportSection] = {}
_DELETION_STEPS: dict[str, Callable[..., dict | None]] = {}


def gdpr_export_section_register(*, section: str, export: Callable[[User], Any], covers: list[str] = ()) -> None:
    """Add a top-level section to every export; `covers` names the models (app_label.Model) it exports."""
    _EXPORT_SECTIONS[section] = ExportSection(export=export, covers=frozenset(covers))


def account_deletion_step_register(*, name: str, step: Callable[..., dict | None]) -> None:
    """Run `step(user=..., organizations_closing=[...])` in every account deletion, before the erasure."""
    _DELETION_STEPS[name] = step


def _is_secret(field_name: str) -> bool:
    return any(marker in field_name for marker in SECRET_FIELD_MARKERS)


def _row(obj: models.Model, *, fields: list[str] | None = None) -> dict[str, Any]:
    out = {}
    for field in obj._meta.concrete_fields:
        if (fields is not None and field.name not in fields) or (fields is None and _is_secret(field.name)):
            continue
        out[field.attname if field.is_relation else field.name] = field.value_from_object(obj)
    return out


def _audit_entries_query(user: User) -> Q:
    user_type = ContentType.objects.get_for_model(User)
    return Q(actor=user) | Q(content_type=user_type, object_pk=str(user.pk))


def user_export_data(*, user: User) -> dict[str, Any]:
    known = {
        "user": _row(user, fields=["id", "email", "is_active", "is_staff", "date_joined", "last_login"]),
        "profile": _row(profile) if (profile := Profile.objects.filter(user=user).first()) else None,
        "email_addresses": [
            _row(address, fields=["email", "verified", "primary"]) for address in EmailAddress.objects.filter(user=user)
        ],
        "memberships": [
            {
                "organization_id": membership.organization_id,
                "organization": membership.organization.name,
                "personal": membership.organization.is_personal,
                "role": membership.role,
                "joined_at": membership.created_at,
            }
            for membership in Membership.objects.filter(user=user).select_related("organization")
        ],
        "invitations_received": [_row(i) for i in Invitation.objects.filter(email__iexact=user.email)],
        "invitations_sent": [_row(i) for i in Invitation.objects.filter(invited_by=user)],
        "login_events": [_row(e) for e in LoginEvent.objects.filter(Q(user=user) | Q(email__iexact=user.email))],
        "sessions": [_row(s) for s in AuthSession.objects.filter(user=user)],
        "api_keys_created": [_row(k) for k in ApiKey.objects.filter(created_by=user)],
        # django-axes keeps sign-in attempts by the address typed in, not by user.
        "sign_in_attempt_records": {
            model._meta.label: [
                _row(record, fields=AXES_FIELDS) for record in model.objects.filter(username__iexact=user.email)
            ]
            for model in AXES_MODELS
        },
        "mfa_authenticators": [_row(a, fields=AUTHENTICATOR_FIELDS) for a in Authenticator.objects.filter(user=user)],
        "audit_log": [
            _row(entry, fields=AUDIT_ENTRY_FIELDS) for entry in LogEntry.objects.filter(_audit_entries_query(user))
        ],
    }
    covered = {Profile, Membership, LoginEvent, AuthSession, EmailAddress, Authenticator, LogEntry, ApiKey, Invitation}
    covered_labels = {label for section in _EXPORT_SECTIONS.values() for label in section.covers}
    for name, section in _EXPORT_SECTIONS.items():
        if name in known:
            raise ValueError(f"GDPR export section {name!r} is already taken")
        known[name] = section.export(user)
    discovered: dict[str, list[dict]] = {}
    for relation in User._meta.related_objects:
        model = relation.related_model
        if model in covered or model._meta.label in covered_labels:
            continue
        rows = model._default_manager.filter(**{relation.field.name: user})
        discovered.setdefault(model._meta.label, []).extend(_row(obj) for obj in rows)
    # Round-trip through JSON so the caller gets plain data (datetimes as ISO strings).
    return json.loads(json.dumps({"exported_at": timezone.now(), **known, "other": discovered}, cls=DjangoJSONEncoder))


def _organizations_closing(*, user: User) -> list[Organization]:
    """The organizations the person is the only member of: removed (personal) or left empty (company)."""
    others = Membership.objects.filter(organization=OuterRef("pk")).exclude(user=user)
    return list(Organization.objects.filter(memberships__user=user).exclude(Exists(others)).order_by("id"))


def _erase_memberships(*, user: User) -> None:
    """Leave every organization; a personal one with nobody else in it goes entirely.

    A company the user was the last admin of would be left unmanaged, so its oldest
    remaining member becomes admin.
    """
    for membership in Membership.objects.filter(user=user).select_related("organization"):
        organization = membership.organization
        others = Membership.objects.filter(organization=organization).exclude(user=user)
        if not others.exists():
            if organization.is_personal:
                organization.delete()
            else:
                membership.delete()
            continue
        if membership.role == Role.ADMIN and not others.filter(role=Role.ADMIN).exists():
            successor = others.order_by("created_at", "id").first()
            successor.role = Role.ADMIN
            successor.save(update_fields=["role"])
        membership.delete()


@transaction.atomic
def user_delete_account(*, user: User) -> LogEntry:
    """Erase a person's data; returns the audit entry that records the erasure.

    The caller logs the request's session out; every other session and token of the
    user is revoked here (the row becomes inactive, which JWT and session auth refuse).
    """
    user_id, email = user.pk, user.email
    closing = _organizations_closing(user=user)
    steps = {name: step(user=user, organizations_closing=closing) for name, step in _DELETION_STEPS.items()}
    _erase_memberships(user=user)
    Profile.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    LoginEvent.objects.filter(Q(user=user) | Q(email__iexact=email)).delete()
    for model in AXES_MODELS:
        model.objects.filter(username__iexact=email).delete()
    session_keys = list(
        AuthSession.objects.filter(user=user).exclude(session_key="").values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=session_keys).delete()
    AuthSession.objects.filter(user=user).delete()
    Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True).delete()
    for relation in User._meta.related_objects:
        # simplejwt's outstanding tokens carry the email inside the token itself.
        if relation.related_model._meta.label == "token_blacklist.OutstandingToken":
            relation.related_model._default_manager.filter(user=user).delete()

    # Earlier audit entries about this user keep what changed but not the values.
    for entry in LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_pk=str(user_id)):
        entry.object_repr = f"user #{user_id}"
        entry.changes = {field: [ERASED, ERASED] for field in (entry.changes or {})}
        entry.changes_text = ""
        entry.serialized_data = None
        entry.save(update_fields=["object_repr", "changes", "changes_text", "serialized_data"])
    LogEntry.objects.filter(actor=user).update(actor_email="")

    with disable_auditlog():
        user.email = f"deleted-user-{user_id}@deleted.invalid"
        user.set_unusable_password()
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.last_login = None
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(User),
        object_pk=str(user_id),
        object_id=user_id,
        object_repr=f"user #{user_id}",
        action=LogEntry.Action.DELETE,
        changes={"account": ["active", "erased on the user's request"]},
        actor=user,
        additional_data={"event": "gdpr_account_deletion", "steps": {k: v for k, v in steps.items() if v}},
    )
