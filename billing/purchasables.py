"""What can be bought once, and for how much: the selling apps tell billing.

Quizzes and articles live in `content`, prompt templates in `marketplace`; both depend
on billing, not the other way round. Each registers a resolver for its item type (from
its AppConfig.ready), and billing asks it for an item's name and list price, so the
price always comes from our own records, never from the client.

An item type may also register `may_buy(item, organization)`, which returns why that
customer may not buy the item (a message) or None; billing refuses with 403 `own_item`
(e.g. a seller organization buying its own prompt template); and `on_settled(purchase)` /
`on_refund_recorded(refund)` / `on_refund_reversed(refund)`, which billing calls inside
its own transaction when a purchase of that type becomes paid, when a refund row of it is
recorded, and when a recorded refund is reversed (Stripe reports it failed or canceled:
called once, just before billing deletes the row), so the selling app's figures (sales,
sellers' ledger) commit or roll back with the money rows.
"""

from collections.abc import Callable
from dataclasses import dataclass

from rest_framework import status
from rest_framework.exceptions import APIException


@dataclass(frozen=True)
class PricedItem:
    item_type: str
    item_id: str
    name: str
    list_amount: int  # minor units
    currency: str


class NotForThisBuyer(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "own_item"
    default_detail = "This customer may not buy this item."


Resolver = Callable[[str], PricedItem | None]
BuyerCheck = Callable[[PricedItem, object], str | None]  # (item, organization or None) -> refusal or None
_resolvers: dict[str, Resolver] = {}
_buyer_checks: dict[str, BuyerCheck] = {}
_on_settled: dict[str, Callable] = {}
_on_refund_recorded: dict[str, Callable] = {}
_on_refund_reversed: dict[str, Callable] = {}


def purchasable_register(
    *,
    item_type: str,
    resolver: Resolver,
    may_buy: BuyerCheck | None = None,
    on_settled: Callable | None = None,
    on_refund_recorded: Callable | None = None,
    on_refund_reversed: Callable | None = None,
) -> None:
    """`resolver(item_id)` returns the item on sale, or None if there is no such item for sale."""
    _resolvers[item_type] = resolver
    if may_buy is not None:
        _buyer_checks[item_type] = may_buy
    if on_settled is not None:
        _on_settled[item_type] = on_settled
    if on_refund_recorded is not None:
        _on_refund_recorded[item_type] = on_refund_recorded
    if on_refund_reversed is not None:
        _on_refund_reversed[item_type] = on_refund_reversed


def purchasable_settled(*, purchase) -> None:
    """A purchase just became paid (inside billing's transaction): tell its item type."""
    callback = _on_settled.get(purchase.item_type)
    if callback is not None:
        callback(purchase)


def purchasable_refund_recorded(*, refund) -> None:
    """A refund row was just recorded (inside billing's transaction): tell its purchase's item type."""
    callback = _on_refund_recorded.get(refund.purchase.item_type)
    if callback is not None:
        callback(refund)


def purchasable_refund_reversed(*, refund) -> None:
    """A recorded refund no longer counts (inside billing's transaction, before its row goes): tell the item type."""
    callback = _on_refund_reversed.get(refund.purchase.item_type)
    if callback is not None:
        callback(refund)


def purchasable_resolve(*, item_type: str, item_id: str, buyer=None) -> PricedItem | None:
    """The item on sale, or None; with `buyer` (an organization, or None when signed out), refuses
    with NotForThisBuyer if the item type's `may_buy` says this customer may not buy it."""
    resolver = _resolvers.get(item_type)
    item = resolver(item_id) if resolver else None
    check = _buyer_checks.get(item_type)
    if item is not None and check is not None:
        refusal = check(item, buyer)
        if refusal:
            raise NotForThisBuyer(refusal)
    return item
