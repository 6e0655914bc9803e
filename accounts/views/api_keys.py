"""/settings/api-keys/: create, list and revoke an organization's API keys.

The full key is rendered once, in the response to the POST that created it; it is
never stored, so it cannot be shown again.
"""

from datetime import timedelta

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.errors import OrganizationAdminRequired
from accounts.models import ApiKey, Membership, Role
from accounts.selectors.api_keys import api_key_list
from accounts.selectors.organizations import (
    membership_list_for_user_by_name,
    membership_primary,
    organization_get_for_member,
)
from accounts.services.api_keys import MAX_SCOPES, SCOPE_PATTERN, api_key_create, api_key_revoke

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Comma-separated, e.g. usage:read, usage:write. Empty means no scopes.",
    )
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")

    def clean_scopes(self) -> list[str]:
        scopes = [s.strip() for s in self.cleaned_data["scopes"].split(",") if s.strip()]
        bad = [s for s in scopes if not SCOPE_PATTERN.match(s)]
        if bad:
            raise forms.ValidationError(f"Not a valid scope name: {', '.join(bad)}")
        if len(scopes) > MAX_SCOPES:
            raise forms.ValidationError(f"At most {MAX_SCOPES} scopes.")
        return scopes

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=int(days)) if days else None


def _current_membership(request) -> Membership:
    """The organization the page works on: ?organization=<id> if the user is a member, else their primary one."""
    requested = request.POST.get("organization") or request.GET.get("organization")
    if requested:
        organization = organization_get_for_member(user=request.user, organization_id=requested)
        return Membership.objects.select_related("organization").get(user=request.user, organization=organization)
    membership = membership_primary(user=request.user)
    if membership is None:
        raise Http404("You are not a member of any organization.")
    return membership


def _render(request, *, membership, form, new_key=None, status=200):
    context = {
        "membership": membership,
        "organization": membership.organization,
        "memberships": membership_list_for_user_by_name(user=request.user),
        "is_admin": membership.role == Role.ADMIN,
        "form": form,
        "api_keys": api_key_list(organization=membership.organization),
        "new_key": new_key,
        "now": timezone.now(),
    }
    return render(request, "accounts/api_keys.html", context, status=status)


@login_required
@reauthentication_required(allow_get=True, app="allauth.account")
def api_keys(request):
    membership = _current_membership(request)
    if request.method != "POST":
        return _render(request, membership=membership, form=ApiKeyCreateForm())
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, membership=membership, form=form, status=400)
    try:
        created = api_key_create(
            organization=membership.organization,
            name=form.cleaned_data["name"],
            created_by=request.user,
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
        )
    except OrganizationAdminRequired as exc:
        raise PermissionDenied(str(exc.detail)) from exc
    messages.success(request, f"API key “{created.api_key.name}” created. Copy it now: it will not be shown again.")
    return _render(request, membership=membership, form=ApiKeyCreateForm(), new_key=created.secret)


@login_required
@require_POST
def api_key_revoke_view(request, key_id: int):
    membership = _current_membership(request)
    try:
        api_key = api_key_list(organization=membership.organization).get(pk=key_id)
    except ApiKey.DoesNotExist:
        raise Http404("No such API key.") from None
    try:
        revoked = api_key_revoke(api_key=api_key, actor=request.user)
    except OrganizationAdminRequired as exc:
        raise PermissionDenied(str(exc.detail)) from exc
    if revoked:
        messages.success(request, f"API key “{api_key.name}” ({api_key.prefix}…) revoked.")
    return redirect(f"{reverse('accounts:api_keys')}?organization={membership.organization.pk}")
