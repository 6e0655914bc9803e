"""/settings/security/: signed-in devices (with revoke), login history, link to MFA."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import AuthSession
from accounts.selectors.sessions import (
    auth_session_for_browser,
    auth_session_get_active,
    auth_session_list_active,
    login_event_list,
)
from accounts.services.lockout import lockout_message, lockout_retry_after
from accounts.services.sessions import auth_session_revoke, auth_session_revoke_all
from common.exceptions import api_error_response


def _own_session(request) -> AuthSession | None:
    return auth_session_for_browser(user=request.user, session_key=request.session.session_key)


@login_required
def security(request):
    current = _own_session(request)
    context = {
        "sessions": auth_session_list_active(user=request.user),
        "current_session_id": current.pk if current else None,
        "login_events": login_event_list(user=request.user, limit=50),
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def session_revoke(request, session_id: int):
    auth_session = auth_session_get_active(user=request.user, session_id=session_id)
    if auth_session is None:
        raise Http404("No such session.")
    auth_session_revoke(auth_session=auth_session)
    messages.success(request, "Session revoked.")
    # Revoking the session this page was loaded in logs the user out; the redirect then lands on the login page.
    return redirect("accounts:security")


@login_required
@require_POST
def session_revoke_all(request):
    count = auth_session_revoke_all(user=request.user, keep=_own_session(request))
    messages.success(request, f"Signed out {count} other session(s).")
    return redirect("accounts:security")


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked-out client sees instead of the login page.

    Pages get the message on the site's own page; API paths get the error shape.
    Both are 429 with Retry-After.
    """
    retry_after = lockout_retry_after(request=request, credentials=credentials)
    message = lockout_message(retry_after=retry_after)
    if request.path.startswith("/api/"):
        response = api_error_response(status_code=429, code="account_locked", message=message)
    else:
        response = render(request, "accounts/lockout.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
