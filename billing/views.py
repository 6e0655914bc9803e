"""Billing pages (pricing, checkout start and return, billing settings) and Stripe's webhook endpoint.

Thin: services do the work.

Every page is about one of the user's organizations, chosen with ?org=<id> (a switcher
lists them); its members see it, its admins change it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException, NotFound

from accounts.models import Membership, Organization, Role
from accounts.selectors.organizations import membership_get, membership_primary, organization_get_for_member
from billing.anonymous import anonymous_buyer_id
from billing.models import ItemType, Purchase, PurchaseStatus, SubscriptionState
from billing.money import money_display
from billing.plans import PLANS, PRICES, plan_feature_lines
from billing.selectors import (
    OWNING_STATUSES,
    SETTLED_STATUSES,
    billing_organizations_for,
    invoices_for,
    purchase_open_for_buyer,
    purchases_for,
    usage_meters,
)
from billing.services.checkout import billing_portal_url, subscription_checkout_start
from billing.services.entitlements import in_grace, plan_effective
from billing.services.pricing import INCLUDED_IN_PLAN_RULES
from billing.services.purchases import purchase_checkout_cancel, purchase_settle_from_stripe, purchase_start
from billing.services.subscription_changes import (
    subscription_cancel,
    subscription_change_plan,
    subscription_change_preview,
    subscription_resume,
)
from billing.services.webhook_intake import webhook_accept
from common.client_ip import client_ip
from common.events import event_source


def _membership(request) -> Membership:
    """The user's membership in the organization the page is about.

    ?org=<id> (query or form) chooses one of the user's organizations (404 for any other,
    as if it did not exist); without it, their primary one (personal, else the oldest).
    """
    raw = request.GET.get("org") or request.POST.get("org")
    if raw:
        organization = organization_get_for_member(user=request.user, organization_id=raw)
        return membership_get(user=request.user, organization=organization)
    membership = membership_primary(user=request.user)
    if membership is None:
        raise Http404("You belong to no organization.")
    return membership


def _admin_organization(request) -> Organization:
    """The page's organization, if the user may change its billing (its admins only)."""
    membership = _membership(request)
    if membership.role != Role.ADMIN:
        raise PermissionDenied("Only the organization's admins can change its billing.")
    return membership.organization


def _with_org(url_name: str, organization: Organization) -> str:
    return f"{reverse(url_name)}?org={organization.pk}"


def _switch_options(*, state: SubscriptionState | None, organization: Organization) -> list[dict]:
    """The other catalogue prices; what switching costs loads separately (Stripe previews it)."""
    if state is None or not state.stripe_subscription_id or state.price_lookup_key not in PRICES:
        return []
    return [
        {
            "lookup_key": key,
            "label": f"{money_display(amount=price.unit_amount, currency=price.currency)} / {price.interval}",
            "preview_url": f"{_with_org('billing:subscription_change_preview', organization)}&lookup_key={key}",
        }
        for key, (_, price) in PRICES.items()
        if key != state.price_lookup_key
    ]


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
    context = {"plans": plans}
    if request.user.is_authenticated:
        choices = billing_organizations_for(user=request.user)
        if choices:
            membership = _membership(request)
            context.update(
                organization=membership.organization,
                is_admin=membership.role == Role.ADMIN,
                organizations=choices,
                switch_url=reverse("billing:pricing"),
            )
    return render(request, "billing/pricing.html", context)


@login_required
@require_POST
def checkout_start(request):
    organization = _admin_organization(request)
    success = (
        request.build_absolute_uri(reverse("billing:checkout_success"))
        + f"?org={organization.pk}&session_id={{CHECKOUT_SESSION_ID}}"
    )
    try:
        url = subscription_checkout_start(
            organization=organization,
            lookup_key=request.POST.get("lookup_key", ""),
            success_url=success,
            cancel_url=request.build_absolute_uri(_with_org("billing:checkout_cancel", organization)),
            source=event_source(request),
        )
    except APIException as exc:
        messages.error(request, str(exc.detail))
        return redirect(_with_org("billing:pricing", organization))
    return redirect(url)


@require_POST
def purchase_buy(request):
    """The "Buy" button of a quiz, an article or a prompt template page.

    Priced here with the buyer's discounts (the form names the item, never a price). Nothing
    left to pay (a Premium subscriber's free quiz or article) completes at once; otherwise the
    browser goes to Stripe Checkout and comes back to the item's page. Signed out, the purchase
    is kept with the browser session and joins the account at sign-up or sign-in.
    """
    back = _safe_next(request, request.POST.get("next", ""))
    item_type = request.POST.get("item_type", "")
    if item_type not in ItemType.values:
        return HttpResponseBadRequest("Unknown item type.")
    item_id = request.POST.get("item_id", "")
    if len(item_id) > Purchase._meta.get_field("item_id").max_length:
        raise Http404("No such item for sale.")
    organization, session_id = None, ""
    if request.user.is_authenticated:
        organization = _membership(request).organization
    else:
        session_id = anonymous_buyer_id(request.session, create=True)
    return_url = request.build_absolute_uri(reverse("billing:purchase_return")) + "?" + urlencode({"next": back})
    try:
        started = purchase_start(
            organization=organization,
            buyer_id=request.user.pk if request.user.is_authenticated else None,
            anonymous_session_id=session_id,
            item_type=item_type,
            item_id=item_id,
            # Stripe puts the session's id in place of the placeholder (kept unescaped for it).
            success_url=return_url + "&session_id={CHECKOUT_SESSION_ID}",
            cancel_url=return_url + "&" + urlencode({"outcome": "cancel", "item_type": item_type, "item_id": item_id}),
            source=event_source(request),
        )
    except NotFound as exc:
        raise Http404(str(exc.detail)) from exc
    except APIException as exc:
        messages.error(request, str(exc.detail))
        return redirect(back)
    if started.checkout_url:
        return redirect(started.checkout_url)
    purchase = started.purchase
    if purchase.status == PurchaseStatus.PENDING:
        messages.info(request, f"Your payment for {purchase.item_name} is processing: it unlocks as soon as it clears.")
        return redirect(back)
    if purchase.discount_rule in INCLUDED_IN_PLAN_RULES:
        messages.success(request, f"{purchase.item_name} is yours, included in your plan.")
    else:
        messages.success(request, f"{purchase.item_name} is yours.")
    return redirect(back)


def purchase_return(request):
    """Where Checkout sends the buyer back to: Stripe is asked how the session ended, then on to the item.

    Paid: the purchase is settled here from Stripe's answer (the webhook may not have landed
    yet), so the page shows the item as owned, never "Buy" again. Left unpaid ("Back" on
    Checkout): the session is closed so it cannot be paid later, and a new Buy starts afresh.
    """
    back = _safe_next(request, request.GET.get("next", ""))
    if request.GET.get("outcome") == "cancel":
        purchase = purchase_open_for_buyer(
            user=request.user,
            anonymous_session_id=anonymous_buyer_id(request.session),
            item_type=request.GET.get("item_type", ""),
            item_id=request.GET.get("item_id", "")[:64],
        )
        if purchase is not None:
            purchase_checkout_cancel(purchase=purchase)
            messages.info(request, "Checkout was cancelled: nothing was charged.")
        return redirect(back)
    purchase = purchase_settle_from_stripe(session_id=request.GET.get("session_id", "")[:255])
    if purchase is not None and purchase.status in OWNING_STATUSES:
        messages.success(request, f"{purchase.item_name} is yours. A receipt is on its way.")
    elif purchase is not None and purchase.status == PurchaseStatus.PENDING:
        messages.info(request, f"Your payment for {purchase.item_name} is processing: it unlocks as soon as it clears.")
    return redirect(back)


def _safe_next(request, url: str) -> str:
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("home")


@login_required
def checkout_success(request):
    organization = _membership(request).organization
    return render(request, "billing/checkout_done.html", {"succeeded": True, "organization": organization})


@login_required
def checkout_cancel(request):
    organization = _membership(request).organization
    return render(request, "billing/checkout_done.html", {"succeeded": False, "organization": organization})


@login_required
def settings_page(request):
    membership = _membership(request)
    organization = membership.organization
    state = SubscriptionState.objects.filter(organization=organization).first()
    now = timezone.now()
    context = {
        "organization": organization,
        "state": state,
        "plan": PLANS[plan_effective(state=state, now=now)],
        "in_grace": in_grace(state=state, now=now),
        "meters": usage_meters(organization_id=organization.pk, user_id=request.user.pk),
        "invoices": invoices_for(organization_id=organization.pk, limit=24),
        "purchases": purchases_for(organization_id=organization.pk),
        "is_admin": membership.role == Role.ADMIN,
        "other_prices": _switch_options(state=state, organization=organization),
        "organizations": billing_organizations_for(user=request.user, now=now),
        "switch_url": reverse("billing:settings"),
    }
    return render(request, "billing/settings.html", context)


@login_required
def purchase_receipt(request, purchase_id: int):
    """A receipt for one purchase and its refunds; members of the buying organization only (404 otherwise)."""
    purchase = (
        Purchase.objects.filter(
            pk=purchase_id, status__in=SETTLED_STATUSES, organization__memberships__user=request.user
        )
        .select_related("organization")
        .prefetch_related("refunds")
        .first()
    )
    if purchase is None:
        raise Http404("No such purchase.")
    return render(request, "billing/receipt.html", {"purchase": purchase, "organization": purchase.organization})


@login_required
@require_POST
def portal(request):
    # Admins only: the portal also cancels the subscription and changes the payment method.
    organization = _admin_organization(request)
    return_url = request.build_absolute_uri(_with_org("billing:settings", organization))
    return redirect(billing_portal_url(organization=organization, return_url=return_url))


def _admin_subscription(request) -> tuple[Organization, str]:
    """The page's organization (its admins only) and its subscription's id; 404 without one."""
    organization = _admin_organization(request)
    state = SubscriptionState.objects.filter(organization=organization).first()
    if state is None or not state.stripe_subscription_id:
        raise Http404("No subscription.")
    return organization, state.stripe_subscription_id


def _change_subscription(request, change, success: str):
    """Run a subscription change for the page's organization (its admins only), then back to the page."""
    organization, subscription_id = _admin_subscription(request)
    try:
        change(organization=organization, subscription_id=subscription_id)
    except APIException as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, success)
    return redirect(_with_org("billing:settings", organization))


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

    return _change_subscription(request, change, "Your plan was changed; the unused time of the old price is credited.")


@login_required
def subscription_change_preview_page(request):
    """htmx fragment beside a switch button: what the switch costs, as Stripe previews it."""
    organization, subscription_id = _admin_subscription(request)
    preview = subscription_change_preview(
        organization=organization, subscription_id=subscription_id, lookup_key=request.GET.get("lookup_key", "")
    )
    due = money_display(amount=abs(preview.amount_due), currency=preview.currency)
    return HttpResponse(f"({due} due now)" if preview.amount_due >= 0 else f"({due} credited)")


@csrf_exempt
@require_POST
def stripe_webhook(request, uuid):
    """Stripe's deliveries: verified and stored, then answered; processing happens in Celery."""
    accepted = webhook_accept(
        endpoint_uuid=uuid, body=request.body, headers=dict(request.headers), remote_ip=client_ip(request) or ""
    )
    if not accepted.endpoint_found:
        return HttpResponseNotFound()
    if accepted.trigger is None:
        return HttpResponseBadRequest(accepted.refused_because)
    return HttpResponse(str(accepted.trigger.pk))
