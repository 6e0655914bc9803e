"""Billing pages: pricing, checkout start and return, billing settings. Thin: services do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from accounts.models import Organization, Role
from accounts.selectors.organizations import membership_get, membership_primary, organization_get_for_member
from billing.models import SubscriptionState
from billing.money import money_display
from billing.plans import PLANS, PRICES, plan_feature_lines
from billing.selectors import invoices_for, usage_meters
from billing.services.checkout import billing_portal_url, subscription_checkout_start
from billing.services.entitlements import plan_effective
from billing.services.subscription_changes import (
    state_change_preview,
    subscription_cancel,
    subscription_change_plan,
    subscription_resume,
)


def _organization(request) -> Organization:
    """The organization the page is about: ?org=<id> if the user belongs to it, else their own."""
    raw = request.GET.get("org") or request.POST.get("org")
    if raw:
        return organization_get_for_member(user=request.user, organization_id=raw)
    membership = membership_primary(user=request.user)
    if membership is None:
        raise Http404("You belong to no organization.")
    return membership.organization


def _is_admin(request, organization: Organization) -> bool:
    membership = membership_get(user=request.user, organization=organization)
    return bool(membership and membership.role == Role.ADMIN)


def _switch_options(*, state: SubscriptionState | None) -> list[dict]:
    """The other catalogue prices, each with what switching to it costs now."""
    if state is None or not state.stripe_subscription_id or state.price_lookup_key not in PRICES:
        return []
    options = []
    for key, (_, price) in PRICES.items():
        if key == state.price_lookup_key:
            continue
        preview = state_change_preview(state=state, lookup_key=key)
        due = money_display(amount=abs(preview.amount_due), currency=preview.currency)
        options.append(
            {
                "lookup_key": key,
                "label": f"{money_display(amount=price.unit_amount, currency=price.currency)} / {price.interval}",
                "due": f"{due} due now" if preview.amount_due >= 0 else f"{due} credited",
            }
        )
    return options


def pricing(request):
    plans = [
        {
            "plan": plan,
            "lines": plan_feature_lines(plan),
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
        "invoices": invoices_for(organization_id=organization.pk, limit=24),
        "is_admin": _is_admin(request, organization),
        "other_prices": _switch_options(state=state),
    }
    return render(request, "billing/settings.html", context)


@login_required
@require_POST
def portal(request):
    organization = _organization(request)
    return_url = request.build_absolute_uri(reverse("billing:settings"))
    return redirect(billing_portal_url(organization=organization, return_url=return_url))


def _change_subscription(request, change, success: str):
    """Run a subscription change for the page's organization (its admins only), then back to the page."""
    organization = _organization(request)
    if not _is_admin(request, organization):
        raise PermissionDenied("Only the organization's admins can change its subscription.")
    state = SubscriptionState.objects.filter(organization=organization).first()
    if state is None or not state.stripe_subscription_id:
        raise Http404("No subscription.")
    try:
        change(organization=organization, subscription_id=state.stripe_subscription_id)
    except APIException as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, success)
    return redirect(f"{reverse('billing:settings')}?org={organization.pk}")


@login_required
@require_POST
def subscription_cancel_page(request):
    return _change_subscription(request, subscription_cancel, "Your subscription will end at the close of this period.")


@login_required
@require_POST
def subscription_resume_page(request):
    return _change_subscription(request, subscription_resume, "Your subscription will renew as usual.")


@login_required
@require_POST
def subscription_change_page(request):
    lookup_key = request.POST.get("lookup_key", "")

    def change(*, organization, subscription_id):
        subscription_change_plan(organization=organization, subscription_id=subscription_id, lookup_key=lookup_key)

    return _change_subscription(
        request, change, "Your plan was changed; the difference is prorated on the next invoice."
    )
