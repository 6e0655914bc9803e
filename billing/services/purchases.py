"""One-time purchases: priced on our side with the discount rules, paid through Checkout."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound

from accounts.models import Organization
from billing import gateway
from billing.exceptions import NotEntitled, QuotaExceeded
from billing.models import ItemType, ManualDiscount, Purchase, PurchaseRefund, PurchaseStatus, RefundSource
from billing.money import money_display
from billing.plans import Feature
from billing.purchasables import (
    PricedItem,
    purchasable_refund_recorded,
    purchasable_refund_reversed,
    purchasable_resolve,
    purchasable_settled,
)
from billing.selectors import OWNING_STATUSES, access_check
from billing.services.customers import customer_ensure
from billing.services.emails import billing_email_queue
from billing.services.pricing import RULE_FEATURE, Quote, price_quote
from billing.services.usage import usage_track
from common.events import EventSource, track


class RefundTooLarge(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refund_exceeds_paid"
    default_detail = "A refund cannot exceed what was paid and not yet refunded."


class AlreadyOwned(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_owned"
    default_detail = "You already own this item."


class NotRefundable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_refundable"
    default_detail = "Only paid purchases can be refunded."


def _remaining(*, organization_id: int, feature: Feature) -> int:
    access = access_check(organization_id=organization_id, user_id=None, feature=feature.value, cached=False)
    if not access.entitled:
        return 0
    return 1_000_000 if access.unlimited else access.remaining or 0


def purchase_quote(*, organization: Organization | None, item_type: str, list_amount: int) -> Quote:
    """The price this customer pays now. Anonymous buyers pay the list price."""
    if organization is None:
        return price_quote(item_type=item_type, list_amount=list_amount)
    manual = (
        ManualDiscount.objects.filter(organization=organization, expires_at__gt=timezone.now())
        .filter(item_type__in=["", item_type])
        .order_by("-percent_off")
        .values_list("percent_off", flat=True)
        .first()
    )
    # Only the plan rights that apply to this kind of item are read (prompt templates have none).
    rights = {}
    if item_type == ItemType.QUIZ:
        rights = {
            "free_quizzes_left": _remaining(organization_id=organization.pk, feature=Feature.FREE_QUIZ),
            "discounted_quizzes_left": _remaining(organization_id=organization.pk, feature=Feature.QUIZ_DISCOUNT),
        }
    elif item_type == ItemType.ARTICLE:
        rights = {
            "premium_articles_left": _remaining(organization_id=organization.pk, feature=Feature.PREMIUM_ARTICLE),
            "article_discount": _remaining(organization_id=organization.pk, feature=Feature.ARTICLE_DISCOUNT) > 0,
        }
    return price_quote(item_type=item_type, list_amount=list_amount, manual_percent_off=manual or 0, **rights)


@dataclass(frozen=True)
class PurchaseStart:
    purchase: Purchase
    checkout_url: str  # empty when nothing is left to pay (a free quiz or article) or the payment is processing
    created: bool = True  # False: the buyer's open purchase of this item, answered again


def _owner_filter(*, organization: Organization | None, anonymous_session_id: str) -> dict:
    if organization is not None:
        return {"organization": organization}
    return {"organization__isnull": True, "anonymous_session_id": anonymous_session_id}


def purchase_start(
    *,
    organization: Organization | None,
    buyer_id: int | None,
    anonymous_session_id: str = "",
    item_type: str,
    item_id: str,
    success_url: str,
    cancel_url: str,
    source: EventSource | None = None,
) -> PurchaseStart:
    """Price the item for this buyer and either complete it (free) or open a Checkout for it.

    One open purchase per buyer and item: while a Checkout for it is open, every Buy (a
    second tab, a double click, a retried API call) answers that same purchase and URL, so
    a customer can never pay twice. The organization's row is locked while this runs, so
    concurrent Buys of one customer queue up (PostgreSQL); anonymous buyers are held to
    one open purchase by a unique constraint. A Buy after paying settles the purchase
    from Stripe's answer and is refused as already owned, even before the webhook lands.

    Product events (after the commit): `checkout_started` when a new Checkout is opened (not
    when the open one is answered again), `purchase` when a free one completes at once.
    """
    item = purchasable_resolve(item_type=item_type, item_id=item_id, buyer=organization)
    if item is None:
        raise NotFound("No such item for sale.")
    owner = _owner_filter(organization=organization, anonymous_session_id=anonymous_session_id)
    try:
        return _purchase_start_locked(
            organization=organization,
            buyer_id=buyer_id,
            anonymous_session_id=anonymous_session_id,
            owner=owner,
            item=item,
            item_type=item_type,
            item_id=item_id,
            success_url=success_url,
            cancel_url=cancel_url,
            source=source,
        )
    except _PaidMeanwhile as paid:
        # Paid on Stripe, the webhook not here yet: settle it now (committed), then refuse as owned.
        purchase_complete_from_checkout(session=paid.session)
        raise AlreadyOwned() from None


class _PaidMeanwhile(Exception):
    def __init__(self, session: dict):
        super().__init__("paid")
        self.session = session


def _purchase_start_locked(
    *,
    organization: Organization | None,
    buyer_id: int | None,
    anonymous_session_id: str,
    owner: dict,
    item: PricedItem,
    item_type: str,
    item_id: str,
    success_url: str,
    cancel_url: str,
    source: EventSource | None,
) -> PurchaseStart:
    with transaction.atomic():
        if organization is not None:
            Organization.objects.select_for_update().filter(pk=organization.pk).first()
        _refuse_if_owned(item_type=item_type, item_id=item_id, owner=owner)
        open_purchase = Purchase.objects.filter(
            status=PurchaseStatus.PENDING, item_type=item_type, item_id=item_id, **owner
        ).first()
        if open_purchase is not None:
            reused = _checkout_reuse(purchase=open_purchase)
            if reused is not None:
                return reused
        quote = purchase_quote(organization=organization, item_type=item_type, list_amount=item.list_amount)
        purchase = _purchase_priced(
            organization=organization,
            buyer_id=buyer_id,
            anonymous_session_id="" if organization else anonymous_session_id,
            item_type=item_type,
            item_id=item_id,
            item=item,
            quote=quote,
        )
        try:
            with transaction.atomic():
                purchase.save()  # pending: the unique "one open purchase" constraint claims the item
        except IntegrityError:
            # Another request of this anonymous buyer opened it a moment ago: answer that one.
            open_purchase = Purchase.objects.get(
                status=PurchaseStatus.PENDING, item_type=item_type, item_id=item_id, **owner
            )
            reused = _checkout_reuse(purchase=open_purchase)
            if reused is None:
                raise AlreadyOwned() from None
            return reused
        if quote.amount == 0:
            return _purchase_complete_free(purchase=purchase, consumes=quote.consumes, source=source)
        customer = customer_ensure(organization=organization) if organization else None
        session = gateway.checkout_session_create(
            mode="payment",
            line_items=[
                {
                    "price_data": {
                        "currency": item.currency,
                        "unit_amount": quote.amount,
                        "product_data": {"name": item.name},
                    },
                    "quantity": 1,
                }
            ],
            success_url=success_url,
            cancel_url=cancel_url,
            customer=customer.stripe_customer_id if customer else None,
            client_reference_id=str(organization.pk) if organization else None,
            metadata={"purchase_id": str(purchase.pk), "kind": "purchase"},
            allow_promotion_codes=True,
            idempotency_key=f"plateau-purchase-{purchase.pk}-checkout",
        )
        purchase.stripe_checkout_session_id = session.id
        purchase.save(update_fields=["stripe_checkout_session_id"])
        track(
            "checkout_started",
            source=source,
            organization_id=purchase.organization_id,
            user_id=purchase.buyer_id,
            item_type=purchase.item_type,
            item_id=purchase.item_id,
            properties={"mode": "payment", "amount": purchase.amount, "currency": purchase.currency},
        )
    return PurchaseStart(purchase=purchase, checkout_url=session.url)


def _purchase_priced(
    *,
    organization: Organization | None,
    buyer_id: int | None,
    item_type: str,
    item_id: str,
    item: PricedItem,
    quote: Quote,
    anonymous_session_id: str = "",
) -> Purchase:
    """The (unsaved) purchase of the item at the quoted price."""
    return Purchase(
        organization=organization,
        buyer_id=buyer_id,
        anonymous_session_id=anonymous_session_id,
        item_type=item_type,
        item_id=item_id,
        item_name=item.name,
        list_amount=item.list_amount,
        discount_amount=quote.discount_amount,
        discount_rule=quote.rule,
        amount=quote.amount,
        currency=item.currency,
    )


def purchase_settle_demo(*, organization: Organization, buyer_id: int, item_type: str, item_id: str) -> Purchase:
    """Seed data (`seed_demo`): the purchase a paid Checkout would leave, made without Stripe and marked `is_demo`.

    Priced as a Buy is (the item type's resolver and its `may_buy`, `purchase_quote`), then
    paid in one transaction with the plan unit its price used and the item type's
    `on_settled`, so the selling app's figures follow as after a real payment. It carries no
    Stripe ids (no session or payment exists), sends no receipt, and cannot be refunded
    (`not_refundable`, as any purchase with no payment). Analytics counts it like any paid
    purchase: the demo's sales are its revenue. Idempotent: an item the organization owns
    is answered as it is.
    """
    owned = Purchase.objects.filter(
        organization=organization, item_type=item_type, item_id=item_id, status__in=OWNING_STATUSES
    ).first()
    if owned is not None:
        return owned
    item = purchasable_resolve(item_type=item_type, item_id=item_id, buyer=organization)
    if item is None:
        raise NotFound("No such item for sale.")
    quote = purchase_quote(organization=organization, item_type=item_type, list_amount=item.list_amount)
    with transaction.atomic():
        now = timezone.now()
        purchase = _purchase_priced(
            organization=organization, buyer_id=buyer_id, item_type=item_type, item_id=item_id, item=item, quote=quote
        )
        purchase.status, purchase.created_at, purchase.paid_at, purchase.is_demo = PurchaseStatus.PAID, now, now, True
        purchase.save()
        if quote.consumes:
            usage_track(
                organization=organization,
                user_id=buyer_id,
                feature=quote.consumes.value,
                quantity=1,
                idempotency_key=f"purchase:{purchase.pk}",
            )
        purchasable_settled(purchase=purchase)
    return purchase


def _refuse_if_owned(*, item_type: str, item_id: str, owner: dict, exclude_pk: int | None = None) -> None:
    owned = Purchase.objects.filter(item_type=item_type, item_id=item_id, status__in=OWNING_STATUSES, **owner)
    if exclude_pk is not None:
        owned = owned.exclude(pk=exclude_pk)
    if owned.exists():
        raise AlreadyOwned()


def _purchase_tracked(*, purchase: Purchase, source: EventSource | None = None) -> None:
    """The `purchase` event of a purchase just settled paid (buffered if the settling commits)."""
    track(
        "purchase",
        source=source,
        organization_id=purchase.organization_id,
        user_id=purchase.buyer_id,
        item_type=purchase.item_type,
        item_id=purchase.item_id,
        properties={
            "purchase_id": purchase.pk,
            "amount": purchase.amount,
            "currency": purchase.currency,
            "discount_rule": purchase.discount_rule,
        },
    )


def _purchase_complete_free(
    *, purchase: Purchase, consumes: Feature | None, source: EventSource | None = None
) -> PurchaseStart:
    """Nothing to pay: the purchase is the buyer's now, and the plan's unit it uses is counted once."""
    purchase.status = PurchaseStatus.PAID
    purchase.paid_at = timezone.now()
    purchase.save(update_fields=["status", "paid_at"])
    if consumes and purchase.organization is not None:
        # Refused (rolled back with the purchase) if another request took the last unit.
        usage_track(
            organization=purchase.organization,
            user_id=purchase.buyer_id,
            feature=consumes.value,
            quantity=1,
            idempotency_key=f"purchase:{purchase.pk}",
        )
    purchasable_settled(purchase=purchase)
    _receipt_queue(purchase=purchase)
    _purchase_tracked(purchase=purchase, source=source)
    return PurchaseStart(purchase=purchase, checkout_url="")


def _checkout_reuse(*, purchase: Purchase) -> PurchaseStart | None:
    """The buyer's open purchase answered again, as Stripe sees its Checkout now; None if it is over.

    Open: the same URL. Paid (the webhook has not landed yet): settled here and refused as
    owned. Complete but still processing the payment: no URL, the purchase stays pending.
    Expired: closed here, and the caller opens a new one.
    """
    if not purchase.stripe_checkout_session_id:
        Purchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.PENDING).update(status=PurchaseStatus.EXPIRED)
        return None
    session = gateway.checkout_session_retrieve(session_id=purchase.stripe_checkout_session_id)
    if session.status == "open":
        return PurchaseStart(purchase=purchase, checkout_url=session.url, created=False)
    if session.status == "complete":
        if session.payment_status in ("paid", "no_payment_required"):
            raise _PaidMeanwhile(session.to_dict())
        return PurchaseStart(purchase=purchase, checkout_url="", created=False)
    purchase_expire_from_checkout(session=session.to_dict())
    return None


def purchase_settle_from_stripe(*, session_id: str) -> Purchase | None:
    """Settle (or close) the purchase of a Checkout session from the session as Stripe has it now.

    Used by the webhook and by the page the buyer comes back to: the event's body is only a
    pointer, never trusted for money, so a forged or replayed event cannot mark anything paid.
    """
    if not session_id:
        return None
    session = gateway.checkout_session_retrieve(session_id=session_id).to_dict()
    if session.get("mode") != "payment":
        return None
    if session.get("status") == "expired":
        return purchase_expire_from_checkout(session=session)
    return (
        purchase_complete_from_checkout(session=session)
        or Purchase.objects.filter(
            pk=(session.get("metadata") or {}).get("purchase_id") or 0, stripe_checkout_session_id=session_id
        ).first()
    )


def purchase_checkout_cancel(*, purchase: Purchase) -> Purchase:
    """The buyer left Checkout: close the session so it cannot be paid later, and the purchase with it."""
    if purchase.status != PurchaseStatus.PENDING:
        return purchase
    if purchase.stripe_checkout_session_id:
        session = gateway.checkout_session_expire(session_id=purchase.stripe_checkout_session_id)
        if session is None:  # no longer open: it may have been paid meanwhile
            return purchase_settle_from_stripe(session_id=purchase.stripe_checkout_session_id) or purchase
    Purchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.PENDING).update(status=PurchaseStatus.EXPIRED)
    purchase.refresh_from_db()
    return purchase


def purchase_complete_from_checkout(*, session: dict) -> Purchase | None:
    """A paid Checkout session settles its purchase, once; the quota its discount used is taken then.

    `session` must come from Stripe itself (the gateway), never from a webhook's body.
    """
    purchase_id = (session.get("metadata") or {}).get("purchase_id")
    if not purchase_id or session.get("payment_status") not in ("paid", "no_payment_required"):
        return None
    with transaction.atomic():
        purchase = (
            Purchase.objects.select_for_update()
            .filter(pk=purchase_id, stripe_checkout_session_id=session.get("id", ""))
            .first()
        )
        if purchase is None or purchase.status not in (PurchaseStatus.PENDING, PurchaseStatus.EXPIRED):
            return purchase
        paid = session.get("amount_total")
        if paid is not None and paid < purchase.amount:
            # A promotion code entered on the Checkout page took off the difference.
            purchase.discount_amount += purchase.amount - paid
            purchase.discount_rule = f"{purchase.discount_rule}+promotion_code".lstrip("+")
            purchase.amount = paid
        purchase.status = PurchaseStatus.PAID
        purchase.paid_at = timezone.now()
        payment_intent = session.get("payment_intent")
        purchase.stripe_payment_intent_id = (
            payment_intent.get("id", "") if isinstance(payment_intent, dict) else payment_intent or ""
        )
        purchase.save()
        consumes = RULE_FEATURE.get(purchase.discount_rule.split("+")[0])
        if consumes and purchase.organization is not None:
            try:
                with transaction.atomic():
                    usage_track(
                        organization=purchase.organization,
                        user_id=purchase.buyer_id,
                        feature=consumes.value,
                        quantity=1,
                        idempotency_key=f"purchase:{purchase.pk}",
                    )
            except (QuotaExceeded, NotEntitled):
                # Quoted while a unit was left (or while the plan had the right) and already paid
                # at that price: the customer keeps it, and the payment must settle whatever came since.
                pass
        purchasable_settled(purchase=purchase)
        _receipt_queue(purchase=purchase)
        # Inside the branch that flips it to paid, once: a replayed webhook or the return page
        # finds it paid and returns above; a rolled-back settle buffers nothing (after commit).
        _purchase_tracked(purchase=purchase)
    return purchase


def purchase_expire_from_checkout(*, session: dict) -> Purchase | None:
    """A Checkout session that expired unpaid closes its pending purchase; nothing was charged or used.

    Quota and discount units are taken only when a purchase is paid, so there is nothing
    to give back: the purchase leaves "pending" so the history does not show it as open.
    """
    purchase_id = (session.get("metadata") or {}).get("purchase_id")
    if not purchase_id:
        return None
    Purchase.objects.filter(
        pk=purchase_id, status=PurchaseStatus.PENDING, stripe_checkout_session_id=session.get("id", "")
    ).update(status=PurchaseStatus.EXPIRED)
    return Purchase.objects.filter(pk=purchase_id).first()


def _receipt_queue(*, purchase: Purchase) -> None:
    recipient = purchase.organization.email if purchase.organization else ""
    if not recipient:
        return
    billing_email_queue(
        key=f"purchase_receipt:{purchase.pk}",
        organization=purchase.organization,
        recipient=recipient,
        template="purchase_receipt",
        context={
            "organization_name": purchase.organization.name,
            "item_name": purchase.item_name,
            "amount": money_display(amount=purchase.amount, currency=purchase.currency),
            "discount": money_display(amount=purchase.discount_amount, currency=purchase.currency),
        },
    )


def purchases_attach_anonymous(*, anonymous_session_id: str, organization: Organization, buyer_id: int) -> int:
    """On sign-up: the purchases made in this browser session become the new account's."""
    if not anonymous_session_id:
        return 0
    anonymous = Purchase.objects.filter(anonymous_session_id=anonymous_session_id, organization__isnull=True)
    # The account's organization may have its own open Checkout for an item the visitor also
    # started: one open purchase per customer and item, so the visitor's is closed instead
    # (left as it is if Stripe cannot be asked now: it stays with the browser session).
    open_items = set(
        Purchase.objects.filter(organization=organization, status=PurchaseStatus.PENDING).values_list(
            "item_type", "item_id"
        )
    )
    kept_apart = []
    for purchase in anonymous.filter(status=PurchaseStatus.PENDING):
        if (purchase.item_type, purchase.item_id) in open_items:
            try:
                closed = purchase_checkout_cancel(purchase=purchase)
            except gateway.StripeError:
                closed = purchase
            if closed.status == PurchaseStatus.PENDING:
                kept_apart.append(purchase.pk)
    return anonymous.exclude(pk__in=kept_apart).update(
        organization=organization, buyer_id=buyer_id, anonymous_session_id=""
    )


def _refunded_status(purchase: Purchase) -> str:
    return PurchaseStatus.REFUNDED if purchase.refunded_amount == purchase.amount else PurchaseStatus.PARTIALLY_REFUNDED


def purchase_refund(*, purchase: Purchase, amount: int, actor=None, reason: str = "") -> Purchase:
    """Refund part or all of a paid purchase through Stripe; never more than was paid.

    The conditional UPDATE claims the amount first, so two concurrent refunds cannot
    together exceed the payment; a Stripe failure rolls the claim back. Each refund is
    kept as a row (amount, when, who, Stripe's id), which is also how the webhook that
    Stripe then sends about it is recognised as ours.
    """
    if amount < 1:
        raise RefundTooLarge("A refund must be at least one minor unit.")
    if purchase.status not in (PurchaseStatus.PAID, PurchaseStatus.PARTIALLY_REFUNDED) or not (
        purchase.stripe_payment_intent_id
    ):
        raise NotRefundable()
    with transaction.atomic():
        claimed = Purchase.objects.filter(pk=purchase.pk, refunded_amount__lte=F("amount") - amount).update(
            refunded_amount=F("refunded_amount") + amount
        )
        if not claimed:
            raise RefundTooLarge()
        purchase.refresh_from_db()
        refund = gateway.refund_create(
            payment_intent=purchase.stripe_payment_intent_id,
            amount=amount,
            idempotency_key=f"plateau-purchase-{purchase.pk}-refund-{purchase.refunded_amount}",
        )
        recorded = PurchaseRefund.objects.create(
            purchase=purchase,
            amount=amount,
            stripe_refund_id=refund.id,
            source=RefundSource.STAFF,
            refunded_by=actor if actor is not None and actor.is_authenticated else None,
            reason=reason[:500],
        )
        purchasable_refund_recorded(refund=recorded)
        purchase.status = _refunded_status(purchase)
        purchase.save(update_fields=["status"])
    return purchase


# A refund in these states has taken (or is taking) the money back.
REFUND_COUNTED_STATUSES = ("succeeded", "pending", "requires_action")


def purchase_refund_sync_from_stripe(*, refund: dict) -> PurchaseRefund | None:
    """A refund event about a purchase's payment, applied from the refund as Stripe has it now.

    Stripe may deliver an event twice or late (a `refund.created` saying `succeeded` after
    the `refund.updated` saying `failed`): the event only names the refund, so a stale copy
    cannot count a refund that failed, and the reversal happens once. Refunds of payments
    that are not purchases cost no call to Stripe.
    """
    payment_intent = refund.get("payment_intent")
    if not refund.get("id") or not payment_intent:
        return None
    if not Purchase.objects.filter(stripe_payment_intent_id=payment_intent).exists():
        return None
    return purchase_refund_record_from_stripe(refund=gateway.refund_retrieve(refund_id=refund["id"]).to_dict())


def purchase_refund_record_from_stripe(*, refund: dict) -> PurchaseRefund | None:
    """A refund made in Stripe (its dashboard or API) counts on the purchase it paid back, once.

    From `refund.created` / `refund.updated`; a refund that then fails or is canceled no
    longer counts. Refunds staff make here are recorded when
    made and recognised by Stripe's id; the purchase row is locked first, so the webhook
    about a staff refund still being committed waits for it and then finds it.
    """
    payment_intent = refund.get("payment_intent")
    amount = refund.get("amount") or 0
    if not payment_intent or amount < 1:
        return None
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().filter(stripe_payment_intent_id=payment_intent).first()
        if purchase is None:
            return None
        recorded = PurchaseRefund.objects.filter(stripe_refund_id=refund["id"]).first()
        if refund.get("status") not in REFUND_COUNTED_STATUSES:
            if recorded is not None:  # failed or canceled: the money stayed with us after all
                purchase.refunded_amount = max(0, purchase.refunded_amount - recorded.amount)
                purchase.status = _refunded_status(purchase) if purchase.refunded_amount else PurchaseStatus.PAID
                purchase.save(update_fields=["refunded_amount", "status"])
                recorded.purchase = purchase
                purchasable_refund_reversed(refund=recorded)
                recorded.delete()
            return None
        if recorded is not None:
            return None
        # Stripe refunds at most what was paid; what counts here is capped at what we charged
        # and not yet refunded, so the rows always add up to refunded_amount.
        counted = min(amount, purchase.amount - purchase.refunded_amount)
        if counted < 1:
            return None
        purchase.refunded_amount += counted
        purchase.status = _refunded_status(purchase)
        purchase.save(update_fields=["refunded_amount", "status"])
        created = refund.get("created")
        recorded = PurchaseRefund.objects.create(
            purchase=purchase,
            amount=counted,
            stripe_refund_id=refund["id"],
            source=RefundSource.STRIPE,
            reason=refund.get("reason") or "",
            created_at=datetime.fromtimestamp(created, tz=UTC) if created else timezone.now(),
        )
        purchasable_refund_recorded(refund=recorded)
        return recorded
