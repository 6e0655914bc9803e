"""/settings/profile/: display name, company, avatar, timezone and email preferences."""

import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.selectors.users import profile_for
from accounts.services.users import profile_update

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=120, required=False)
    company = forms.CharField(max_length=200, required=False)
    avatar_url = forms.URLField(required=False, label="Avatar URL", assume_scheme="https")
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)
    product_emails = forms.BooleanField(required=False, label="Product news and tips by email")
    marketing_emails = forms.BooleanField(required=False, label="Offers and promotions by email")


@login_required
def profile(request):
    current = profile_for(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            profile_update(user=request.user, **form.cleaned_data)
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(
            initial={
                "display_name": current.display_name,
                "company": current.company,
                "avatar_url": current.avatar_url,
                "timezone": current.timezone,
                "product_emails": current.product_emails,
                "marketing_emails": current.marketing_emails,
            }
        )
    return render(
        request, "accounts/profile.html", {"form": form, "profile": current}, status=400 if form.errors else 200
    )
