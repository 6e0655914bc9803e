"""JWT for people: obtain, rotate, log out — bound to an AuthSession "family".

Every token pair belongs to a family (one signed-in device). The family's AuthSession
row holds `current_jti`, the only refresh token of the family that may still be used.
Rotation swaps it with one conditional UPDATE, so of two concurrent refreshes with the
same token exactly one wins. The losers of such a race (a token rotated less than
JWT_REFRESH_REUSE_GRACE_SECONDS ago) are refused with 401 `token_superseded` and the
winner's new pair stays valid. A refresh token rotated longer ago than that is a
replay (or a stolen copy), so presenting it revokes the family: its refresh token is
blacklisted and its access tokens are refused from then on
(accounts.authentication.JWTFamilyAuthentication).

Logins here obey the same rules as the allauth pages: django-axes lockout (through
django.contrib.auth.authenticate), verified email, and the TOTP step for MFA users.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from allauth.account.utils import has_verified_email
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, user_login_failed
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import AuthSession, LoginEvent, User
from accounts.selectors.organizations import membership_primary
from accounts.services.lockout import lockout_is_locked, lockout_message, lockout_retry_after
from accounts.services.login_history import client_user_agent, login_event_record
from accounts.services.sessions import auth_session_revoke, auth_session_start
from common.client_ip import client_ip

FAMILY_CLAIM = "family"


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"
    default_detail = "Too many failed attempts."

    def __init__(self, *, wait: int):
        super().__init__(lockout_message(retry_after=wait))
        self.wait = wait


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_code = "invalid_credentials"
    default_detail = "Email or password is incorrect."


class EmailNotVerified(exceptions.AuthenticationFailed):
    default_code = "email_not_verified"
    default_detail = "Verify your email address first: follow the link we emailed you."


class MfaCodeRequired(exceptions.AuthenticationFailed):
    default_code = "mfa_required"
    default_detail = "This account uses two-factor authentication: send the code from your authenticator app as `otp`."


class MfaCodeInvalid(exceptions.AuthenticationFailed):
    default_code = "mfa_invalid"
    default_detail = "The two-factor code is incorrect or was already used."


class RefreshTokenInvalid(exceptions.AuthenticationFailed):
    default_code = "token_not_valid"
    default_detail = "Refresh token is invalid or expired."


class PasswordChanged(exceptions.AuthenticationFailed):
    default_code = "password_changed"
    default_detail = "The password changed since this token was issued. Log in again."


class RefreshTokenSuperseded(exceptions.AuthenticationFailed):
    default_code = "token_superseded"
    default_detail = "This refresh token was just rotated by a concurrent request; use the newest tokens."


class RefreshTokenReused(exceptions.AuthenticationFailed):
    default_code = "token_reused"
    default_detail = "This refresh token was already used. The session has been signed out; log in again."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    auth_session: AuthSession


def _new_refresh_token(*, user: User, family: str) -> RefreshToken:
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user.pk)
    refresh["email"] = user.email
    membership = membership_primary(user=user)
    refresh["org_id"] = membership.organization_id if membership else None
    refresh["role"] = membership.role if membership else None
    refresh[FAMILY_CLAIM] = family
    # The password's fingerprint: a changed password ends the token (see _password_unchanged).
    refresh[jwt_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    return refresh


def _password_unchanged(*, user: User, payload: dict) -> bool:
    return payload.get(jwt_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


def _outstand(*, refresh: RefreshToken, user: User) -> OutstandingToken:
    return OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=timezone.now(),
        expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
    )


def _blacklist_jti(*, jti: str, payload: dict, raw: str, user: User | None) -> None:
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user": user,
            "token": raw,
            "expires_at": datetime.fromtimestamp(payload["exp"], tz=UTC),
        },
    )
    BlacklistedToken.objects.get_or_create(token=outstanding)


def _verify_mfa_code(*, user: User, code: str) -> bool:
    """TOTP or an unused recovery code, validated by allauth.mfa (which also stops code replay)."""
    for authenticator in Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.WEBAUTHN):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


def _refuse_login(*, request: HttpRequest, credentials: dict, reason: str) -> None:
    """A failed second step counts like a wrong password (lockout, login history)."""
    user_login_failed.send(sender=__name__, credentials=credentials, request=request, reason=reason)


def token_obtain(*, request: HttpRequest, email: str, password: str, otp: str = "") -> TokenPair:
    """Log in through the API. Raises AccountLocked (429) or an AuthenticationFailed (401).

    `request` is DRF's request: axes reads the client address and the email from it.
    """
    email = email.strip().lower()
    credentials = {"email": email}
    if lockout_is_locked(request=request, credentials=credentials):
        login_event_record(
            request=request,
            user=User.objects.filter(email__iexact=email).first(),
            email=email,
            success=False,
            method=LoginEvent.Method.JWT,
            reason="locked_out",
        )
        raise AccountLocked(wait=lockout_retry_after(request=request, credentials=credentials))

    user = authenticate(request, email=email, password=password)
    if user is None:
        # authenticate() sent user_login_failed: axes counted it, receivers logged it.
        if getattr(request, "axes_locked_out", False):
            raise AccountLocked(wait=lockout_retry_after(request=request, credentials=credentials))
        raise InvalidCredentials()

    if not has_verified_email(user):
        login_event_record(
            request=request,
            user=user,
            email=email,
            success=False,
            method=LoginEvent.Method.JWT,
            reason="email_not_verified",
        )
        raise EmailNotVerified()

    if is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        if not otp:
            login_event_record(
                request=request,
                user=user,
                email=email,
                success=False,
                method=LoginEvent.Method.JWT,
                reason="mfa_required",
            )
            raise MfaCodeRequired()
        if not _verify_mfa_code(user=user, code=otp.strip()):
            _refuse_login(request=request, credentials=credentials, reason="invalid_otp")
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked(wait=lockout_retry_after(request=request, credentials=credentials))
            raise MfaCodeInvalid()

    # Clears the failure count like a page login does (AXES_RESET_ON_SUCCESS). Sent to
    # axes directly: the user_logged_in signal means "a browser session started".
    AxesProxyHandler.user_logged_in(sender=__name__, request=request, user=user)
    update_last_login(None, user)
    family = uuid.uuid4().hex
    with transaction.atomic():
        refresh = _new_refresh_token(user=user, family=family)
        _outstand(refresh=refresh, user=user)
        auth_session = auth_session_start(
            user=user,
            kind=AuthSession.Kind.JWT,
            ip_address=client_ip(request),
            user_agent=client_user_agent(request),
            family=family,
            current_jti=refresh[jwt_settings.JTI_CLAIM],
        )
        login_event_record(request=request, user=user, email=email, success=True, method=LoginEvent.Method.JWT)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), auth_session=auth_session)


def _decode_refresh(raw: str) -> dict:
    """Signature, expiry and type of a refresh token (not the blacklist: rotation decides)."""
    try:
        payload = UntypedToken(raw).payload
    except TokenError as exc:
        raise RefreshTokenInvalid() from exc
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh" or not payload.get(FAMILY_CLAIM):
        raise RefreshTokenInvalid()
    return payload


def token_refresh(*, request: HttpRequest, raw_refresh: str) -> TokenPair:
    """Rotate: a new pair for the current refresh token; a replayed one revokes the family."""
    payload = _decode_refresh(raw_refresh)
    family = payload[FAMILY_CLAIM]
    jti = payload[jwt_settings.JTI_CLAIM]
    user = User.objects.filter(pk=payload.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is not None and not _password_unchanged(user=user, payload=payload):
        # Issued before the password changed: the session ends with the old password.
        auth_session = AuthSession.objects.filter(family=family).first()
        if auth_session is not None:
            auth_session_revoke(auth_session=auth_session)
        _blacklist_jti(jti=jti, payload=payload, raw=raw_refresh, user=user)
        raise PasswordChanged()

    if user is not None:
        with transaction.atomic():
            refresh = _new_refresh_token(user=user, family=family)
            # The one conditional UPDATE that decides the race: only the current token
            # of a live family matches, and once it matched the token is no longer current.
            won = AuthSession.objects.filter(family=family, user=user, current_jti=jti, revoked_at__isnull=True).update(
                current_jti=refresh[jwt_settings.JTI_CLAIM],
                last_used_at=timezone.now(),
                ip_address=client_ip(request),
                user_agent=client_user_agent(request),
            )
            if won:
                _blacklist_jti(jti=jti, payload=payload, raw=raw_refresh, user=user)
                _outstand(refresh=refresh, user=user)
                auth_session = AuthSession.objects.get(family=family)
                return TokenPair(access=str(refresh.access_token), refresh=str(refresh), auth_session=auth_session)

    auth_session = AuthSession.objects.filter(family=family).first()
    if user is not None and auth_session is not None and auth_session.revoked_at is None:
        grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
        if BlacklistedToken.objects.filter(token__jti=jti, blacklisted_at__gte=timezone.now() - grace).exists():
            # Lost a race with a refresh of the same token that just won: refuse this
            # one without ending the session the winner now holds.
            raise RefreshTokenSuperseded()

    # Not the current token of a live family: a replay of a rotated token, a token
    # of a signed-out session, or of a deactivated user. Either way the family ends.
    already_signed_out = auth_session is None or auth_session.revoked_at is not None
    if auth_session is not None:
        auth_session_revoke(auth_session=auth_session)
    _blacklist_jti(jti=jti, payload=payload, raw=raw_refresh, user=user)
    if user is None or already_signed_out:
        raise RefreshTokenInvalid()
    raise RefreshTokenReused()


def token_logout(*, raw_refresh: str) -> None:
    """Sign this device out: its refresh token is blacklisted and its family revoked."""
    payload = _decode_refresh(raw_refresh)
    user = User.objects.filter(pk=payload.get(jwt_settings.USER_ID_CLAIM)).first()
    with transaction.atomic():
        _blacklist_jti(jti=payload[jwt_settings.JTI_CLAIM], payload=payload, raw=raw_refresh, user=user)
        auth_session = AuthSession.objects.filter(family=payload[FAMILY_CLAIM]).first()
        if auth_session is not None:
            auth_session_revoke(auth_session=auth_session)


def tokens_flush_expired(*, now: datetime | None = None) -> int:
    """Delete the refresh-token records past their expiry (simplejwt's `flushexpiredtokens`, same query).

    Their blacklist entries go with them (CASCADE): an expired token is refused by its
    signature's expiry anyway. Run daily by beat (`accounts-tokens-flush-expired`); returns
    how many records went.
    """
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
