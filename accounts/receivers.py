"""The one edge where accounts listens to signals: Django's auth signals and allauth.mfa's.

Each receiver only translates the signal into a service call, so logins through the
allauth pages (and the admin) open an AuthSession and leave LoginEvent rows. The JWT
endpoint calls the same services directly (accounts.services.tokens).
"""

import time

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authentication_failed as mfa_authentication_failed
from allauth.mfa.signals import authenticator_added
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.admin_site import MFA_ACTIVATED_SESSION_KEY
from accounts.middleware import AUTH_SESSION_ID, AUTH_SESSION_SEEN
from accounts.models import ApiKey, AuthSession, LoginEvent, User
from accounts.services.api_key_cache import api_key_cache_forget
from accounts.services.jwt_cache import user_auth_cache_forget
from accounts.services.lockout import lockout_username
from accounts.services.login_history import client_user_agent, login_event_record
from accounts.services.sessions import (
    auth_session_end_web,
    auth_session_start,
    auth_sessions_end_on_password_change,
)
from common.client_ip import client_ip


def _method(request, user=None) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return LoginEvent.Method.JWT
    if path.startswith("/admin/"):
        return LoginEvent.Method.ADMIN
    if user is not None and is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        return LoginEvent.Method.MFA
    return LoginEvent.Method.PASSWORD


@receiver(user_logged_in, dispatch_uid="accounts.web_login")
def on_user_logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    auth_session = auth_session_start(
        user=user,
        kind=AuthSession.Kind.WEB,
        ip_address=client_ip(request),
        user_agent=client_user_agent(request),
        session_key=request.session.session_key or "",
    )
    request.session[AUTH_SESSION_ID] = auth_session.pk
    request.session[AUTH_SESSION_SEEN] = time.time()
    login_event_record(request=request, user=user, email=user.email, success=True, method=_method(request, user))


@receiver(user_logged_out, dispatch_uid="accounts.web_logout")
def on_user_logged_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        auth_session_end_web(session_key=request.session.session_key or "")


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def on_user_login_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    email = lockout_username(request, credentials) or ""
    # Refused by the lockout before the password was even checked (axes did not count it).
    if getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", None) is None:
        reason = "locked_out"
    else:
        reason = kwargs.get("reason") or "invalid_credentials"
    login_event_record(
        request=request,
        user=User.objects.filter(email__iexact=email).first() if email else None,
        email=email,
        success=False,
        method=_method(request),
        reason=reason,
    )


@receiver(mfa_authentication_failed, dispatch_uid="accounts.mfa_failed")
def on_mfa_authentication_failed(sender, request, user, reauthentication=False, **kwargs):
    """A wrong TOTP code on the login page counts as a failed login, as it does on the API."""
    if request is None or reauthentication:
        return
    user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request, reason="invalid_otp")


@receiver(password_changed, dispatch_uid="accounts.password_changed")
@receiver(password_set, dispatch_uid="accounts.password_set")
def on_password_changed(sender, request, user, **kwargs):
    """Changed by the person on /accounts/password/: every other device is signed out."""
    session = getattr(request, "session", None)
    if session is None:
        auth_sessions_end_on_password_change(user=user)
        return
    auth_sessions_end_on_password_change(
        user=user, keep_id=session.get(AUTH_SESSION_ID), keep_session_key=session.session_key or ""
    )


@receiver(password_reset, dispatch_uid="accounts.password_reset")
def on_password_reset(sender, request, user, **kwargs):
    """Reset through an emailed link: whoever knew the old password is out, everywhere."""
    auth_sessions_end_on_password_change(user=user)


@receiver(authenticator_added, dispatch_uid="accounts.mfa_activated")
def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    """Activating an authenticator app takes a valid code from it: this browser session has
    passed the second factor, so the admin does not ask for another code straight away."""
    if request is not None and hasattr(request, "session") and authenticator.type == Authenticator.Type.TOTP:
        request.session[MFA_ACTIVATED_SESSION_KEY] = time.time()
@receiver(post_save, sender=ApiKey, dispatch_uid="accounts.api_key_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="accounts.api_key_deleted")
def on_api_key_changed(sender, instance, **kwargs):
    """A key saved or deleted outside `api_key_revoke` (the admin, an organization deleted with
    its keys): the cached row is no longer current on any web process.

    A signal rather than a call in each place, because deletions cascade from the
    organization (and the user who created the key) without passing through our code.
    """
    api_key_cache_forget(prefix=instance.prefix)


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted")
def on_user_changed(sender, instance, **kwargs):
    """A user saved or deleted anywhere (password, is_active, the admin, deletion): the cached
    answer for their access tokens is no longer current on any web process."""
    user_auth_cache_forget(user_id=instance.pk)


@receiver(post_delete, sender=AuthSession, dispatch_uid="accounts.auth_session_deleted")
def on_auth_session_deleted(sender, instance, **kwargs):
    """A session row deleted (with its user, or by hand): its tokens must find no cached session."""
    user_auth_cache_forget(user_id=instance.user_id)
