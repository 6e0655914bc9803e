"""What can be bought once, and for how much: the selling apps tell billing.

Quizzes and articles live in `content`, prompt templates in `marketplace`; both depend
on billing, not the other way round. Each registers a resolver for its item type (from
its AppConfig.ready), and billing asks it for an item's name and list price, so the
price always comes from our own records, never from the client.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PricedItem:
    item_type: str
    item_id: str
    name: str
    list_amount: int  # minor units
    currency: str


Resolver = Callable[[str], PricedItem | None]
_resolvers: dict[str, Resolver] = {}


def purchasable_register(*, item_type: str, resolver: Resolver) -> None:
    """`resolver(item_id)` returns the item on sale, or None if there is no such item for sale."""
    _resolvers[item_type] = resolver


def purchasable_resolve(*, item_type: str, item_id: str) -> PricedItem | None:
    resolver = _resolvers.get(item_type)
    return resolver(item_id) if resolver else None
