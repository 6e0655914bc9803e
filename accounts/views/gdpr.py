"""/settings/data/: download all your data as JSON, or delete your account."""

import json

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.errors import AccountDeletionFailed
from accounts.services.gdpr import user_delete_account, user_export_data


class AccountDeleteForm(forms.Form):
    confirm_email = forms.EmailField(label="Type your email address to confirm")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm_email(self):
        value = self.cleaned_data["confirm_email"]
        if value.strip().lower() != self.user.email.lower():
            raise forms.ValidationError("This is not the email address of your account.")
        return value


def export_response(user) -> HttpResponse:
    body = json.dumps(user_export_data(user=user), indent=2)
    response = HttpResponse(body, content_type="application/json")
    filename = f"plateau-data-{user.pk}-{timezone.now():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def data(request):
    return render(request, "accounts/data.html", {"form": AccountDeleteForm(user=request.user)})


@login_required
def data_export(request):
    return export_response(request.user)


@login_required
@require_POST
@reauthentication_required  # a left-open browser must not be enough to erase an account
def account_delete(request):
    form = AccountDeleteForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "accounts/data.html", {"form": form}, status=400)
    try:
        entry = user_delete_account(user=request.user)
    except AccountDeletionFailed as error:
        messages.error(request, str(error.detail))
        return render(request, "accounts/data.html", {"form": AccountDeleteForm(user=request.user)}, status=503)
    logout(request)
    messages.success(request, "Your account and personal data have been deleted.")
    for step in (entry.additional_data or {}).get("steps", {}).values():
        if step.get("notice"):  # what another app did as part of the deletion, e.g. billing's cancellations
            messages.info(request, step["notice"])
    return redirect("home")
