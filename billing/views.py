"""Billing pages: pricing, checkout start and return, billing settings. Thin: services do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from accounts.models import Organization
from accounts.selectors.organizations import membership_primary, organization_get_for_member
from billing.models import SubscriptionState
from billing.money import money_display
from billing.plans import PLANS
from billing.selectors import usage_meters
from billing.services.checkout import billing_portal_url, subscription_checkout_start
from billing.services.entitlements import plan_effective


def _organization(request) -> Organization:
    """The organization the page is about: ?org=<id> if the user belongs to it, else their own."""
    raw = request.GET.get("org") or request.POST.get("org")
    if raw:
        return organization_get_for_member(user=request.user, organization_id=raw)
    membership = membership_primary(user=request.user)
    if membership is None:
        raise Http404("You belong to no organization.")
    return membership.organization


def pricing(request):
    plans = [
        {
            "plan": plan,
            "prices": [
                {
                    "lookup_key": p.lookup_key,
                    "label": money_display(amount=p.unit_amount, currency=p.currency),
                    **p.__dict__,
                }
                for p in plan.prices
            ],
        }
        for plan in PLANS.values()
    ]
    return render(request, "billing/pricing.html", {"plans": plans})


@login_required
@require_POST
def checkout_start(request):
    organization = _organization(request)
    success = request.build_absolute_uri(reverse("billing:checkout_success")) + "?session_id={CHECKOUT_SESSION_ID}"
    try:
        url = subscription_checkout_start(
            organization=organization,
            lookup_key=request.POST.get("lookup_key", ""),
            success_url=success,
            cancel_url=request.build_absolute_uri(reverse("billing:checkout_cancel")),
        )
    except APIException as exc:
        messages.error(request, str(exc.detail))
        return redirect("billing:pricing")
    return redirect(url)


@login_required
def checkout_success(request):
    return render(request, "billing/checkout_done.html", {"succeeded": True})


@login_required
def checkout_cancel(request):
    return render(request, "billing/checkout_done.html", {"succeeded": False})


@login_required
def settings_page(request):
    organization = _organization(request)
    state = SubscriptionState.objects.filter(organization=organization).first()
    now = timezone.now()
    context = {
        "organization": organization,
        "state": state,
        "plan": PLANS[plan_effective(state=state, now=now)],
        "in_grace": bool(state and state.status == "past_due" and state.grace_until and now < state.grace_until),
        "meters": usage_meters(organization_id=organization.pk, user_id=request.user.pk),
    }
    return render(request, "billing/settings.html", context)


@login_required
@require_POST
def portal(request):
    organization = _organization(request)
    return_url = request.build_absolute_uri(reverse("billing:settings"))
    return redirect(billing_portal_url(organization=organization, return_url=return_url))
