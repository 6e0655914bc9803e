"""The one module that calls Stripe.

Everything else in the project goes through these small functions, so the API key and
the API base (real Stripe, or the local sandbox in development and tests: see
docs/stripe-sandbox.md) are configured in one place, from settings, at call time.
"""

from typing import Any

import stripe
from django.conf import settings

# What a failed Stripe call raises, for callers that must carry on without Stripe (never to call it).
StripeError = stripe.StripeError


def webhook_signature_verify(*, payload: str, header: str, secret: str, tolerance: int) -> None:
    """Check a delivery's `Stripe-Signature` as Stripe's library does (no network); raises SignatureError.

    Stripe's check only refuses timestamps older than the tolerance; the caller refuses
    ones from the future as well.
    """
    stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)


SignatureError = stripe.SignatureVerificationError


def client() -> stripe.StripeClient:
    """A client for the configured Stripe: `STRIPE_API_BASE` empty means real Stripe."""
    if settings.STRIPE_API_BASE:
        return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY)


def account_retrieve() -> stripe.Account:
    return client().v1.accounts.retrieve_current()


def reachable() -> bool:
    """Whether the configured Stripe answers at all (the sandbox may not be running), asked once, no retries."""
    base = {"base_addresses": {"api": settings.STRIPE_API_BASE}} if settings.STRIPE_API_BASE else {}
    try:
        stripe.StripeClient(settings.STRIPE_SECRET_KEY, max_network_retries=0, **base).v1.accounts.retrieve_current()
    except stripe.APIConnectionError:
        return False
    return True


def webhook_endpoint_create(
    *, url: str, enabled_events: list[str], metadata: dict[str, str], api_version: str | None = None
) -> stripe.WebhookEndpoint:
    """Register a webhook endpoint; the response is the only time Stripe reveals its signing `secret`."""
    params: dict[str, Any] = {"url": url, "enabled_events": enabled_events, "metadata": metadata}
    if api_version:
        params["api_version"] = api_version
    return client().v1.webhook_endpoints.create(params=params)


def webhook_endpoint_list() -> list[stripe.WebhookEndpoint]:
    return list(client().v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter())


def webhook_endpoint_delete(*, endpoint_id: str) -> None:
    client().v1.webhook_endpoints.delete(endpoint_id)


def checkout_session_create(
    *,
    mode: str,
    line_items: list[dict[str, Any]],
    success_url: str,
    cancel_url: str,
    customer: str | None = None,
    customer_email: str | None = None,
    client_reference_id: str | None = None,
    metadata: dict[str, str] | None = None,
    subscription_data: dict[str, Any] | None = None,
    allow_promotion_codes: bool = False,
    idempotency_key: str | None = None,
) -> stripe.checkout.Session:
    """A hosted Checkout page; the customer pays at the returned session's `url`."""
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    optional = {
        "customer": customer,
        "customer_email": customer_email,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "subscription_data": subscription_data,
        "allow_promotion_codes": allow_promotion_codes,
    }
    params.update({key: value for key, value in optional.items() if value})
    return client().v1.checkout.sessions.create(params=params, options=_options(idempotency_key))


def checkout_session_retrieve(*, session_id: str) -> stripe.checkout.Session:
    """The session as Stripe knows it now: the truth about whether it was paid, whatever a webhook said."""
    return client().v1.checkout.sessions.retrieve(session_id)


def checkout_session_expire(*, session_id: str) -> stripe.checkout.Session | None:
    """Close an open session so it can no longer be paid; None when it was no longer open."""
    try:
        return client().v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status in (400, 404):  # already complete or expired (or gone): nothing left to close
            return None
        raise


def subscription_list(*, customer: str) -> list[stripe.Subscription]:
    """Every subscription of a customer, whatever its status, as Stripe has it now (reconcile)."""
    params = {"customer": customer, "status": "all", "limit": 100}
    return list(client().v1.subscriptions.list(params=params).auto_paging_iter())


# --- Catalogue, customers, portal (used by billing.services) -----------------------------


def _options(idempotency_key: str | None) -> dict[str, Any]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


def product_retrieve(*, product_id: str) -> stripe.Product | None:
    try:
        return client().v1.products.retrieve(product_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise


def product_create(*, product_id: str, name: str, description: str, metadata: dict[str, str]) -> stripe.Product:
    params = {"id": product_id, "name": name, "description": description, "metadata": metadata}
    return client().v1.products.create(params=params)


def product_update(*, product_id: str, name: str, description: str, metadata: dict[str, str]) -> stripe.Product:
    params = {"name": name, "description": description, "metadata": metadata, "active": True}
    return client().v1.products.update(product_id, params=params)


def price_list(*, lookup_keys: list[str]) -> list[stripe.Price]:
    params = {"lookup_keys": lookup_keys, "active": True, "limit": 100}
    return list(client().v1.prices.list(params=params).auto_paging_iter())


def price_create(
    *, product_id: str, unit_amount: int, currency: str, interval: str, lookup_key: str, metadata: dict[str, str]
) -> stripe.Price:
    """A recurring price; it takes the lookup key over from any older price that had it."""
    params = {
        "product": product_id,
        "unit_amount": unit_amount,
        "currency": currency,
        "recurring": {"interval": interval},
        "lookup_key": lookup_key,
        "transfer_lookup_key": True,
        "metadata": metadata,
    }
    return client().v1.prices.create(params=params)


def price_deactivate(*, price_id: str) -> stripe.Price:
    return client().v1.prices.update(price_id, params={"active": False})


def customer_create(
    *, email: str, name: str, metadata: dict[str, str], idempotency_key: str | None = None
) -> stripe.Customer:
    params = {"email": email, "name": name, "metadata": metadata}
    return client().v1.customers.create(params=params, options=_options(idempotency_key))


def payment_method_attach(*, payment_method: str, customer: str) -> stripe.PaymentMethod:
    return client().v1.payment_methods.attach(payment_method, params={"customer": customer})


def subscription_create(*, customer: str, price: str, default_payment_method: str) -> stripe.Subscription:
    params = {"customer": customer, "items": [{"price": price}], "default_payment_method": default_payment_method}
    return client().v1.subscriptions.create(params=params)


def customer_update(*, customer_id: str, email: str, name: str) -> stripe.Customer:
    return client().v1.customers.update(customer_id, params={"email": email, "name": name})


def billing_portal_session_create(*, customer: str, return_url: str) -> stripe.billing_portal.Session:
    return client().v1.billing_portal.sessions.create(params={"customer": customer, "return_url": return_url})


def refund_create(*, payment_intent: str, amount: int, idempotency_key: str) -> stripe.Refund:
    params = {"payment_intent": payment_intent, "amount": amount}
    return client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})


def refund_retrieve(*, refund_id: str) -> stripe.Refund:
    return client().v1.refunds.retrieve(refund_id)


def subscription_update(*, subscription_id: str, params: dict[str, Any]) -> stripe.Subscription:
    return client().v1.subscriptions.update(subscription_id, params=params)


def invoice_preview(*, customer: str, subscription_id: str, subscription_details: dict[str, Any]) -> stripe.Invoice:
    """The invoice Stripe would issue for the subscription after the proposed change; nothing changes."""
    params = {"customer": customer, "subscription": subscription_id, "subscription_details": subscription_details}
    return client().v1.invoices.create_preview(params=params)


def subscription_cancel(*, subscription_id: str) -> stripe.Subscription:
    """Cancel at once (staff); customers cancel at the period end through subscription_update."""
    return client().v1.subscriptions.cancel(subscription_id)
