"""/settings/organizations/: your organizations, their members and invitations.

Everyone in an organization sees its members; only its admins change roles, remove
members and invite. The services enforce that; these views only choose what to show.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from accounts.models import Invitation, Membership, Role
from accounts.selectors.organizations import (
    invitation_get_for_member,
    invitation_list_open,
    membership_get,
    membership_get_for_member,
    membership_list,
    organization_get_for_member,
)
from accounts.services.organizations import (
    invitation_accept,
    invitation_create,
    invitation_get_open,
    invitation_revoke,
    membership_mark_used,
    membership_remove,
    membership_role_change,
    organization_create,
    organization_rename,
)


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organization name")


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=Invitation._meta.get_field("email").max_length)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.BUYER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class RenameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")


def _safe_next(request, default: str) -> str:
    """Where to go back to after switching: a path on this site, without a stale ?org=."""
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "org"]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@login_required
@require_POST
def organization_switch(request):
    """The header's switcher: the chosen organization becomes the current one (and the landing one)."""
    organization = organization_get_for_member(user=request.user, organization_id=request.POST.get("organization"))
    membership_mark_used(user=request.user, organization_id=organization.pk, force=True)
    return redirect(_safe_next(request, "/"))


@login_required
@require_POST
def organization_rename_view(request, org_id: int):
    organization = organization_get_for_member(user=request.user, organization_id=org_id)
    form = RenameForm(request.POST)
    if not form.is_valid():
        return _render_organization(request, organization, rename_form=form, status=400)
    try:
        organization_rename(organization=organization, name=form.cleaned_data["name"], actor=request.user)
    except APIException as error:
        messages.error(request, str(error.detail))
        return _render_organization(request, organization, rename_form=form, status=error.status_code)
    messages.success(request, f"Renamed to {organization.name}.")
    return redirect("accounts:organization", org_id=organization.pk)


@login_required
def organizations(request):
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = organization_create(name=form.cleaned_data["name"], creator=request.user)
        messages.success(request, f"{organization.name} created. You are its admin.")
        return redirect("accounts:organization", org_id=organization.pk)
    memberships = Membership.objects.filter(user=request.user).select_related("organization").order_by("id")
    return render(
        request,
        "accounts/organizations.html",
        {"memberships": memberships, "form": form},
        status=400 if form.errors else 200,
    )


def _render_organization(request, organization, *, invite_form=None, rename_form=None, status=200):
    membership = membership_get(user=request.user, organization=organization)
    context = {
        "organization": organization,
        "membership": membership,
        "is_admin": membership.role == Role.ADMIN,
        "members": membership_list(organization=organization),
        "invitations": invitation_list_open(organization=organization),
        "invite_form": invite_form or InvitationForm(),
        "rename_form": rename_form or RenameForm(initial={"name": organization.name}),
        "roles": Role.choices,
    }
    return render(request, "accounts/organization.html", context, status=status)


@login_required
def organization(request, org_id: int):
    return _render_organization(request, organization_get_for_member(user=request.user, organization_id=org_id))


@login_required
@require_POST
def invitation_create_view(request, org_id: int):
    organization = organization_get_for_member(user=request.user, organization_id=org_id)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_organization(request, organization, invite_form=form, status=400)
    try:
        invitation, _ = invitation_create(
            organization=organization,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except APIException as error:
        messages.error(request, str(error.detail))
        return _render_organization(request, organization, invite_form=form, status=error.status_code)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("accounts:organization", org_id=organization.pk)


@login_required
@require_POST
def invitation_revoke_view(request, org_id: int, invitation_id: int):
    invitation = invitation_get_for_member(user=request.user, organization_id=org_id, invitation_id=invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, f"Invitation to {invitation.email} revoked.")
    except APIException as error:
        messages.error(request, str(error.detail))
    return redirect("accounts:organization", org_id=invitation.organization_id)


@login_required
@require_POST
def membership_role_view(request, org_id: int, membership_id: int):
    target = membership_get_for_member(user=request.user, organization_id=org_id, membership_id=membership_id)
    organization = target.organization
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            membership_role_change(membership=target, role=form.cleaned_data["role"], actor=request.user)
            messages.success(request, f"{target.user.email} is now {form.cleaned_data['role']}.")
        except APIException as error:
            messages.error(request, str(error.detail))
    return redirect("accounts:organization", org_id=organization.pk)


@login_required
@require_POST
def membership_remove_view(request, org_id: int, membership_id: int):
    target = membership_get_for_member(user=request.user, organization_id=org_id, membership_id=membership_id)
    organization = target.organization
    try:
        membership_remove(membership=target, actor=request.user)
    except APIException as error:
        messages.error(request, str(error.detail))
        return redirect("accounts:organization", org_id=organization.pk)
    if target.user_id == request.user.pk:
        messages.success(request, f"You left {organization.name}.")
        return redirect("accounts:organizations")
    messages.success(request, f"{target.user.email} removed from {organization.name}.")
    return redirect("accounts:organization", org_id=organization.pk)


@login_required
def invitation_accept_view(request, token: str):
    try:
        invitation = invitation_get_open(token=token)
        if request.method == "POST":
            membership = invitation_accept(token=token, user=request.user)
            messages.success(request, f"You joined {membership.organization.name} as {membership.role}.")
            return redirect("accounts:organization", org_id=membership.organization_id)
    except APIException as error:
        return render(request, "accounts/invitation_invalid.html", {"message": error.detail}, status=error.status_code)
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})
