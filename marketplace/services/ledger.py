"""Sales figures and the sellers' ledger, kept in step with billing's money rows.

Billing calls `template_purchase_settled`, `template_refund_recorded` and
`template_refund_reversed` (registered in MarketplaceConfig.ready) inside the transaction
that writes the paid purchase, writes the refund row, or deletes a refund row Stripe
reported failed or canceled, so the template's figures and the ledger commit or roll back
with them, once each (billing calls them once per row, under the purchase's row lock).

A paid purchase credits the seller with the price minus the platform fee
(MARKETPLACE_PLATFORM_FEE_PERCENT, rounded half up to the minor unit); a refund debits
the seller's share of what was refunded, computed on the running total so that a
purchase refunded in full, in any number of parts, debits exactly what it credited.
Staff record payouts; balance = credits − debits − payouts, in integer minor units.
"""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from rest_framework.exceptions import ValidationError
from reversion.models import Version

from accounts.models import Organization, User
from billing.models import Purchase, PurchaseRefund
from marketplace.cache import catalogue_changed
from marketplace.models import LedgerEntry, LedgerKind, OwnedVersion, Payout, PromptTemplate


def platform_fee(gross: int) -> int:
    """The platform's share of `gross` minor units, rounded half up."""
    return (gross * settings.MARKETPLACE_PLATFORM_FEE_PERCENT + 50) // 100


def seller_share(gross: int) -> int:
    return gross - platform_fee(gross)


def template_purchase_settled(purchase: Purchase, /) -> None:
    """A purchase of a template became paid: one more sale, its revenue, and the seller's credit."""
    template = PromptTemplate.objects.filter(slug=purchase.item_id).only("pk", "seller_id").first()
    if template is None:
        return
    PromptTemplate.objects.filter(pk=template.pk).update(
        sales_count=F("sales_count") + 1, revenue_amount=F("revenue_amount") + purchase.amount
    )
    catalogue_changed()  # the best-selling sort reads sales_count
    # The buyer keeps the version on sale now, whatever the seller publishes later.
    OwnedVersion.objects.get_or_create(
        purchase=purchase,
        defaults={"template": template, "version": Version.objects.get_for_object(template).first()},
    )
    if purchase.amount == 0 or LedgerEntry.objects.filter(purchase=purchase, kind=LedgerKind.CREDIT).exists():
        return
    fee = platform_fee(purchase.amount)
    LedgerEntry.objects.create(
        seller_id=template.seller_id,
        template=template,
        kind=LedgerKind.CREDIT,
        purchase=purchase,
        gross_amount=purchase.amount,
        fee_amount=fee,
        amount=purchase.amount - fee,
        currency=purchase.currency,
        created_at=purchase.paid_at,
    )


def template_refund_recorded(refund: PurchaseRefund, /) -> None:
    """Part or all of a template purchase was refunded: less revenue, and a debit of the seller's share."""
    purchase = refund.purchase
    template = PromptTemplate.objects.filter(slug=purchase.item_id).only("pk", "seller_id").first()
    if template is not None:
        PromptTemplate.objects.filter(pk=template.pk).update(revenue_amount=F("revenue_amount") - refund.amount)
    credit = LedgerEntry.objects.filter(purchase=purchase, kind=LedgerKind.CREDIT).first()
    if credit is None:  # nothing was credited (settled before the ledger existed): nothing to take back
        return
    before = (
        LedgerEntry.objects.filter(purchase=purchase, kind=LedgerKind.DEBIT).aggregate(total=Sum("gross_amount"))[
            "total"
        ]
        or 0
    )
    amount = seller_share(before + refund.amount) - seller_share(before)
    LedgerEntry.objects.create(
        seller_id=credit.seller_id,
        template_id=credit.template_id,
        kind=LedgerKind.DEBIT,
        purchase=purchase,
        refund=refund,
        gross_amount=refund.amount,
        fee_amount=refund.amount - amount,
        amount=amount,
        currency=purchase.currency,
        created_at=refund.created_at,
    )


def template_refund_reversed(refund: PurchaseRefund, /) -> None:
    """A recorded refund of a template failed or was canceled in Stripe: the money stayed, so it counts again.

    The revenue gets the refunded amount back, and the refund's debit goes. The purchase's
    other debits were computed on running totals that included it, so their sum may now be
    a minor unit away from the seller's share of what is still refunded: the newest of them
    takes the difference (its fee moves the other way), so a purchase's debits always add up
    to exactly that share.
    """
    purchase = refund.purchase
    PromptTemplate.objects.filter(slug=purchase.item_id).update(revenue_amount=F("revenue_amount") + refund.amount)
    LedgerEntry.objects.filter(refund=refund).delete()
    debits = LedgerEntry.objects.filter(purchase=purchase, kind=LedgerKind.DEBIT).exclude(refund=refund)
    totals = debits.aggregate(gross=Sum("gross_amount"), amount=Sum("amount"))
    difference = seller_share(totals["gross"] or 0) - (totals["amount"] or 0)
    if difference == 0:
        return
    # |difference| <= 1: four roundings of half a unit at most. Move it where both shares stay >= 0.
    room = {"fee_amount__gte": difference} if difference > 0 else {"amount__gte": -difference}
    newest = debits.filter(**room).order_by("-created_at", "-id").first()
    LedgerEntry.objects.filter(pk=newest.pk).update(
        amount=F("amount") + difference, fee_amount=F("fee_amount") - difference
    )


def seller_balance_amount(*, seller_id: int, currency: str) -> int:
    """Credits − debits − payouts in one currency, minor units."""
    sums = dict(
        LedgerEntry.objects.filter(seller_id=seller_id, currency=currency)
        .values("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    paid_out = (
        Payout.objects.filter(seller_id=seller_id, currency=currency).aggregate(total=Sum("amount"))["total"] or 0
    )
    return sums.get(LedgerKind.CREDIT, 0) - sums.get(LedgerKind.DEBIT, 0) - paid_out


def payout_record(
    *, seller: Organization, amount: int, currency: str, reference: str, paid_on: date, actor: User | None
) -> Payout:
    """Staff record money sent to a seller outside Plateau; never more than the balance owed."""
    if amount < 1:
        raise ValidationError({"amount": ["A payout is at least one minor unit."]})
    with transaction.atomic():
        # One payout at a time per seller, so two cannot together exceed the balance.
        Organization.objects.select_for_update().filter(pk=seller.pk).first()
        balance = seller_balance_amount(seller_id=seller.pk, currency=currency)
        if amount > balance:
            raise ValidationError(
                {"amount": [f"The seller is owed {balance} {currency} minor units; pay at most that."]}
            )
        return Payout.objects.create(
            seller=seller,
            amount=amount,
            currency=currency,
            reference=reference.strip()[:200],
            paid_on=paid_on,
            recorded_by=actor if actor is not None and actor.is_authenticated else None,
        )
