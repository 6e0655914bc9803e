"""Signed-in devices: browser sessions and JWT refresh-token families.

Every way of signing in opens an AuthSession row; revoking it ends the device's
access (the Django session is deleted, or the family's refresh token is blacklisted
and its access tokens refused by `accounts.authentication.JWTFamilyAuthentication`).
"""

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AuthSession
from accounts.services.jwt_cache import user_auth_cache_forget
from common.use_memory import UseMemory

USER_AGENT_MAX = AuthSession._meta.get_field("user_agent").max_length
# Like ApiKey.last_used_at: "last used" of a device is a hint, written at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def auth_session_start(
    *,
    user,
    kind: str,
    ip_address: str | None,
    user_agent: str,
    session_key: str = "",
    family: str = "",
    current_jti: str = "",
) -> AuthSession:
    """Open a session for a new sign-in and enforce MAX_CONCURRENT_SESSIONS.

    The new session always survives; the oldest others are revoked until the user
    is back at the cap.
    """
    now = timezone.now()
    with transaction.atomic():
        auth_session = AuthSession.objects.create(
            user=user,
            kind=kind,
            session_key=session_key,
            family=family,
            current_jti=current_jti,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
            created_at=now,
            last_used_at=now,
        )
        cap = max(1, settings.MAX_CONCURRENT_SESSIONS)
        surplus = list(
            AuthSession.objects.filter(user=user, revoked_at__isnull=True)
            .exclude(pk=auth_session.pk)
            .order_by("-created_at", "-id")[cap - 1 :]
        )
        for old in surplus:
            auth_session_revoke(auth_session=old)
    return auth_session


def auth_session_revoke(*, auth_session: AuthSession) -> bool:
    """End one device's access. Returns False if it was already revoked.

    The conditional UPDATE makes a revoke that races another one (or a rotation) a
    no-op instead of a double blacklist.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = AuthSession.objects.filter(pk=auth_session.pk, revoked_at__isnull=True).update(revoked_at=now)
        if not updated:
            return False
        # Every web process reads the session from the cache: from the commit on, none accepts it.
        user_auth_cache_forget(user_id=auth_session.user_id)
        auth_session.refresh_from_db(fields=["revoked_at", "current_jti"])
        if auth_session.kind == AuthSession.Kind.WEB and auth_session.session_key:
            session_key = auth_session.session_key
            transaction.on_commit(lambda: _session_store()(session_key=session_key).delete())
        if auth_session.kind == AuthSession.Kind.JWT and auth_session.current_jti:
            # Older refresh tokens of the family were blacklisted as they were rotated;
            # only the current one can still be live.
            outstanding = OutstandingToken.objects.filter(jti=auth_session.current_jti).first()
            if outstanding is not None:
                BlacklistedToken.objects.get_or_create(token=outstanding)
    return True


def auth_session_revoke_all(*, user, keep: AuthSession | None = None) -> int:
    """Revoke every active session of `user`, except `keep` (the caller's own) if given."""
    sessions = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    if keep is not None:
        sessions = sessions.exclude(pk=keep.pk)
    return sum(auth_session_revoke(auth_session=s) for s in sessions)


def auth_sessions_end_on_password_change(*, user, keep_id: int | None = None, keep_session_key: str = "") -> int:
    """The password changed: every signed-in device of the user ends, except the browser
    that changed it (`keep_id`, when the person changed it themself; Django gave that
    browser a new session key, `keep_session_key`).

    A reset or an admin's change keeps nothing. Tokens issued earlier are refused in any
    case (they carry the old password's fingerprint), and Django refuses the other
    browsers' sessions; this makes the device list say so and ends the token families.
    """
    keep = None
    if keep_id is not None:
        keep = AuthSession.objects.filter(
            pk=keep_id, user=user, kind=AuthSession.Kind.WEB, revoked_at__isnull=True
        ).first()
        if keep is not None and keep_session_key:
            AuthSession.objects.filter(pk=keep.pk).update(session_key=keep_session_key)
    return auth_session_revoke_all(user=user, keep=keep)


def auth_session_touch(*, auth_session_id: int, session_key: str, ip_address: str | None, user_agent: str) -> bool:
    """Record that a browser session is in use. False if it has been revoked meanwhile.

    The session key is refreshed too: Django changes it on password change and the
    like, and revoking must delete the session the browser really holds.
    """
    return bool(
        AuthSession.objects.filter(pk=auth_session_id, kind=AuthSession.Kind.WEB, revoked_at__isnull=True).update(
            last_used_at=timezone.now(),
            session_key=session_key,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
        )
    )


# Keyed by (id, family): a test database that hands out an id again does not inherit the memory.
_uses = UseMemory(resolution=LAST_USED_RESOLUTION)


def auth_session_use(*, session_id: int, family: str, now: datetime | None = None) -> None:
    """A JWT of this session is being used: record it at most once per LAST_USED_RESOLUTION per process (no read)."""
    now = now or timezone.now()
    if not _uses.due((session_id, family), now):
        return
    AuthSession.objects.filter(pk=session_id).exclude(last_used_at__gt=now - LAST_USED_RESOLUTION).update(
        last_used_at=now
    )


def auth_session_end_web(*, session_key: str) -> None:
    """The user logged out of a browser session: it is no longer an active device."""
    if session_key:
        AuthSession.objects.filter(kind=AuthSession.Kind.WEB, session_key=session_key, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
