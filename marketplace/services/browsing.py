"""What people look for in the catalogue, as product events (`common.events.track`, which only buffers)."""

from accounts.selectors.organizations import organization_id_primary
from common.events import EventSource, track
from common.search import search_words
from marketplace.selectors import BrowseFilters


def catalogue_browse_record(
    *, source: EventSource, filters: BrowseFilters, results: int, organization_id: int | None = None
) -> None:
    """A catalogue page or list call someone asked for, on its first page (turning pages is the same look).

    With search words it is a `search` (its category, if any, among the properties); else a
    category chosen is a `category_browse` of that category; a plain listing is neither
    (its page view says enough). `results` is the count as the page shows it (capped).
    """
    searching = bool(search_words(filters.query))
    if not searching and not filters.category:
        return
    properties = {"results": results}
    for name in ("category", "seller", "pricing", "sort"):
        if getattr(filters, name):
            properties[name] = getattr(filters, name)
    if filters.tags:
        properties["tags"] = list(filters.tags)
    organization_id = organization_id or organization_id_primary(user_id=source.user_id)
    if searching:
        track(
            "search",
            source=source,
            organization_id=organization_id,
            item_type="marketplace",
            properties={"query": filters.query[:200], **properties},
        )
    else:
        track(
            "category_browse",
            source=source,
            organization_id=organization_id,
            item_type="category",
            item_id=filters.category,
            properties=properties,
        )
