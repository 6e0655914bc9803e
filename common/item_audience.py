"""Who looked at an item and used it, for the apps that show such figures, without importing the app
that counts them.

Analytics stores the product events (views, renders) and registers a provider when it loads
(`item_audience_provider_register`); the marketplace's seller dashboard asks through
`item_audience` and never imports analytics. No provider, or a provider with no data for the
period, answers None: the page says "not tracked yet" rather than show zeros it does not know.
"""

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemAudience:
    views: int  # page views of the item's page
    unique_viewers: int  # distinct visitors (a signed-in user, or an anonymous visitor id) who viewed it
    uses: int  # times it was used (a template: "Try it" renders)


# (item_type, item_ids, first_day, last_day) -> {item_id: ItemAudience} (every id), or None without data.
AudienceProvider = Callable[[str, Collection[str], date, date], dict[str, ItemAudience] | None]

_provider: AudienceProvider | None = None


def item_audience_provider_register(provider: AudienceProvider | None) -> None:
    """Called once by the app that counts events (analytics) when it loads."""
    global _provider
    _provider = provider


def item_audience(
    *, item_type: str, item_ids: Collection[str], first_day: date, last_day: date
) -> dict[str, ItemAudience] | None:
    """Views, unique viewers and uses of each item over UTC days [first_day, last_day]; None when not tracked.

    None: no provider is registered, it has no events for the period (tracking not running,
    or the events are past their retention), or it failed (logged; a page never breaks for it).
    """
    if _provider is None:
        return None
    try:
        return _provider(item_type, item_ids, first_day, last_day)
    except Exception:  # noqa: BLE001 — figures from another app must not break the page showing them
        logger.exception("item_audience: the provider failed for %s", item_type)
        return None
