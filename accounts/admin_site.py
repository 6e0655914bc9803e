"""The admin site: staff reach it only through allauth's login, with TOTP.

Django's own admin login form is replaced by a redirect to allauth's login (which asks
for the TOTP code of users who have one). Every admin view then checks that the staff
member has an authenticator app and that this session passed the MFA step; otherwise
they are sent to set up TOTP or to confirm a code first.
"""

from functools import update_wrapper
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.account.decorators import secure_admin_login
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

# Set in the session when this browser activated an authenticator app with a valid code
# (accounts.receivers): that proves the second factor as much as the login's TOTP step.
MFA_ACTIVATED_SESSION_KEY = "plateau_mfa_activated_at"
# Where the recovery-codes page continues to after the admin sent staff to set up TOTP.
AFTER_MFA_SETUP_SESSION_KEY = "plateau_after_mfa_setup"


def session_passed_mfa(request) -> bool:
    if request.session.get(MFA_ACTIVATED_SESSION_KEY):
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


class PlateauAdminSite(admin.AdminSite):
    site_header = "Plateau back office"
    site_title = "Plateau admin"

    def login(self, request, extra_context=None):
        # allauth's guard: anonymous → allauth's login (which asks the TOTP step);
        # signed in without staff rights → 403 instead of a login loop.
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def mfa_guarded(request, *args, **kwargs):
            user = request.user
            if user.is_active and user.is_staff:
                if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
                    messages.warning(request, "Staff must turn on an authenticator app before using the admin.")
                    # The recovery-codes page that follows the set-up links back here.
                    request.session[AFTER_MFA_SETUP_SESSION_KEY] = request.get_full_path()
                    return redirect("mfa_activate_totp")
                if not session_passed_mfa(request):
                    messages.warning(request, "Confirm a code from your authenticator app to open the admin.")
                    return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
            return inner(request, *args, **kwargs)

        return update_wrapper(mfa_guarded, inner)
