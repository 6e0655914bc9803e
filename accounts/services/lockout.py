"""Progressive lockout on repeated failed logins, per account and per IP (django-axes).

Axes counts failures per username and per IP (AXES_LOCKOUT_PARAMETERS) and refuses
logins at AXES_FAILURE_LIMIT. The cool-off grows with each lockout of the same
account or address within LOCKOUT_MEMORY: AXES_LOCKOUT_BASE, then twice that, four
times... capped at AXES_LOCKOUT_MAX. The number of earlier lockouts comes from axes'
own AccessFailureLog (rows with locked_out=True are written once per lockout).

The pages and the JWT endpoint share all of this: both go through
django.contrib.auth.authenticate, where AxesStandaloneBackend refuses locked clients.
"""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone

from common.client_ip import client_ip

LOCKOUT_MEMORY = timedelta(hours=24)
USERNAME_KEYS = ("login", "email", "username")


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email tried, lower-cased, whichever form sent it.

    allauth passes `email`, our API passes `email`, Django's admin form `username`;
    without this axes would only look at one field name and miss the others.
    """
    sources = [credentials or {}]
    if request is not None:
        sources.append(getattr(request, "data", None) or {})
        sources.append(getattr(request, "POST", None) or {})
    for source in sources:
        for key in USERNAME_KEYS:
            value = source.get(key) if hasattr(source, "get") else None
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
    return None


def _earlier_lockouts(request: HttpRequest | None) -> int:
    if request is None:
        return 0
    who = Q()
    username = lockout_username(request, getattr(request, "axes_credentials", None))
    if username:
        who |= Q(username=username)
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    if ip_address:
        who |= Q(ip_address=ip_address)
    if not who:
        return 0
    since = timezone.now() - LOCKOUT_MEMORY
    return AccessFailureLog.objects.filter(who, locked_out=True, attempt_time__gte=since).count()


def lockout_cooloff(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: the base cool-off, doubled for each earlier lockout, capped."""
    base = settings.AXES_LOCKOUT_BASE
    lockouts = _earlier_lockouts(request)
    return min(base * (2 ** max(0, lockouts - 1)), settings.AXES_LOCKOUT_MAX)


def lockout_retry_after(*, request: HttpRequest, credentials: dict | None = None) -> int:
    """Seconds until this client may try again (at least 1)."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    latest = None
    for attempts in handler.filter_user_attempts(request, credentials):
        candidate = attempts.aggregate(latest=Max("attempt_time"))["latest"]
        if candidate and (latest is None or candidate > latest):
            latest = candidate
    if latest is None:
        return 1
    remaining = latest + lockout_cooloff(request) - timezone.now()
    return max(1, math.ceil(remaining.total_seconds()))


def lockout_message(*, retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def lockout_is_locked(*, request: HttpRequest, credentials: dict) -> bool:
    return not AxesProxyHandler.is_allowed(request, credentials)


class ProgressiveLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, with expiry that respects per-client cool-offs.

    Axes deletes every attempt older than the *current* request's cool-off; with a
    cool-off that differs per client, that would end a long lockout early whenever
    someone else tried to log in. Instead, attempts of the client at hand expire by its
    own cool-off and everyone else's only after the longest possible one.
    """

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        now = timezone.now()
        count, _ = AccessAttempt.objects.filter(attempt_time__lte=now - settings.AXES_LOCKOUT_MAX).delete()
        if request is not None:
            threshold = now - lockout_cooloff(request)
            for attempts in self.filter_user_attempts(request, credentials):
                deleted, _ = attempts.filter(attempt_time__lte=threshold).delete()
                count += deleted
        return count
