"""Sensitive actions need a recent authentication: within REAUTHENTICATION_TIMEOUT_SECONDS
(ACCOUNT_REAUTHENTICATION_TIMEOUT, default 5 minutes) of signing in or confirming the
password (or a TOTP code).

Pages use allauth's own mechanism: `reauthentication_required` sends the browser to
/accounts/reauthenticate/ and replays the request afterwards. allauth counts only
explicit reauthentications; `AccountAdapter.is_reauthentication_required` also counts
the sign-in itself, so a person who just logged in is not asked for the password again
(staff setting up TOTP right after their first login were asked twice in a row).

The API has no reauthentication dialogue: the proof is a fresh login. A JWT counts from
when its session (token family) was opened by POST /auth/token/, not from its last
refresh; a browser calling the API with its session cookie counts as on the pages.
"""

import time
from datetime import UTC, datetime

from allauth.account import app_settings as allauth_account_settings
from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication

from accounts.models import AuthSession
from accounts.services.tokens import FAMILY_CLAIM


class ReauthenticationNeeded(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "reauthentication_required"
    default_detail = (
        "This needs a recent login: get a new token (POST /api/v1/auth/token/) and retry within 5 minutes."
    )


def timeout_seconds() -> int:
    return allauth_account_settings.REAUTHENTICATION_TIMEOUT


def browser_authenticated_recently(request: HttpRequest) -> bool:
    """A sign-in, second factor or reauthentication of this browser session within the timeout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    records = get_authentication_records(request, user)
    return any(time.time() - record.get("at", 0) < timeout_seconds() for record in records)


def api_require_recent_authentication(request) -> None:
    """Raise ReauthenticationNeeded (403) unless the API caller authenticated recently."""
    authenticator = request.successful_authenticator
    if isinstance(authenticator, SessionAuthentication):
        if browser_authenticated_recently(request._request):
            return
        raise ReauthenticationNeeded(
            "This needs a recent login: confirm your password on /accounts/reauthenticate/ and retry."
        )
    token = request.auth if hasattr(request.auth, "get") else None
    if token is not None:
        family = token.get(FAMILY_CLAIM)
        if family:
            opened = AuthSession.objects.filter(family=family).values_list("created_at", flat=True).first()
        else:  # minted by server code, not a login: only its own issue time speaks for it
            opened = datetime.fromtimestamp(token["iat"], tz=UTC) if token.get("iat") else None
        if opened is not None and (timezone.now() - opened).total_seconds() < timeout_seconds():
            return
    raise ReauthenticationNeeded()
