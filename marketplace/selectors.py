"""Reads of the marketplace: what is on sale, at what price for this viewer, and what they own."""

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone
from reversion.models import Version

from accounts.models import Membership, Organization, Role
from accounts.selectors.organizations import membership_list_for_user
from billing.money import money_display
from billing.purchasables import PricedItem
from billing.selectors import OWNING_STATUSES, Viewer, purchased_item_ids, purchases_paid_count_by_item
from billing.services.pricing import Quote
from billing.services.purchases import purchase_quote
from common.item_audience import item_audience
from common.search import search_ranked, search_scores, search_words
from marketplace import pagination
from marketplace.cache import CatalogueRead, catalogue_key
from marketplace.models import (
    Category,
    LedgerEntry,
    LedgerKind,
    OwnedVersion,
    Payout,
    PromptTemplate,
    Review,
    ReviewReport,
    tag_list_of,
)

ITEM_TYPE = "prompt_template"
PUBLISHER_ROLES = (Role.SELLER, Role.ADMIN)


@dataclass(frozen=True)
class TemplateOffer:
    template: PromptTemplate
    quote: Quote | None  # None when owned: there is nothing to price
    owned: bool

    @property
    def price_display(self) -> str:
        if self.quote is None:
            return ""
        if self.quote.amount == 0 and self.quote.list_amount == 0:
            return "Free"
        return money_display(amount=self.quote.amount, currency=self.template.currency)

    @property
    def list_price_display(self) -> str:
        return money_display(amount=self.quote.list_amount, currency=self.template.currency) if self.quote else ""

    @property
    def discounted(self) -> bool:
        return self.quote is not None and self.quote.discount_amount > 0


def prompt_template_list_published(*, category: str = "") -> QuerySet[PromptTemplate]:
    """Public templates on sale, newest first; an unknown category filters nothing out."""
    templates = PromptTemplate.objects.listed().select_related("seller")
    if category in Category.values:
        templates = templates.filter(category=category)
    return templates


def prompt_template_get_for_viewer(*, slug: str, viewer: Viewer) -> PromptTemplate:
    """A published template (listed or not); one off sale (draft, archived) only to members of
    its selling organization and to those who bought it; 404 otherwise."""
    template = PromptTemplate.objects.select_related("seller").filter(slug=slug).first()
    if template is None:
        raise Http404("No such prompt template.")
    if template.is_published or template.seller_id in viewer.member_of:
        return template
    if template.published_at is not None and template.slug in viewer.owned_item_ids(item_type=ITEM_TYPE):
        return template
    raise Http404("No such prompt template.")


def prompt_template_offers(*, viewer: Viewer, templates: Iterable[PromptTemplate]) -> list[TemplateOffer]:
    """Each template with the price this viewer would pay now and whether they own it.

    Ownership is one query for the whole page. Prices come from billing's quote (its
    discount rules), asked once per distinct list price rather than once per template, and
    not at all for what the viewer owns.
    """
    bought = viewer.owned_item_ids(item_type=ITEM_TYPE)
    quotes: dict[int, Quote] = {}
    offers = []
    for template in templates:
        owned = template.slug in bought or template.seller_id in viewer.member_of
        if not owned and template.price_amount not in quotes:
            quotes[template.price_amount] = purchase_quote(
                organization=viewer.organization, item_type=ITEM_TYPE, list_amount=template.price_amount
            )
        quote = None if owned else quotes[template.price_amount]
        offers.append(TemplateOffer(template=template, quote=quote, owned=owned))
    return offers


def prompt_template_priced(item_id: str, /) -> PricedItem | None:
    """Billing's resolver for "prompt_template": the item id is the template's slug.

    Only published templates are for sale; a draft or an unknown slug is None (billing
    answers 404). The list price is always read from our row, never from the client.
    """
    template = PromptTemplate.objects.published().filter(slug=item_id).only("slug", "title", "price_amount", "currency")
    template = template.first()
    if template is None:
        return None
    return PricedItem(
        item_type=ITEM_TYPE,
        item_id=template.slug,
        name=template.title,
        list_amount=template.price_amount,
        currency=template.currency,
    )


PROMPT_EXPORT_FIELDS = [
    "id", "slug", "title", "seller", "category", "tags", "status", "price_amount", "currency", "published_at",
    "created_at", "updated_at", "description", "body", "variables", "example_output",
]


def prompt_template_export_rows(*, status: str = "", chunk_size: int = 2000) -> Iterator[dict]:
    """Every template (drafts too, or one status) as plain dicts, read `chunk_size` at a time, by id."""
    templates = PromptTemplate.objects.select_related("seller").order_by("id")
    if status:
        templates = templates.filter(status=status)
    for t in templates.iterator(chunk_size=chunk_size):
        yield {
            "id": t.pk, "slug": t.slug, "title": t.title, "seller": t.seller.slug, "category": t.category,
            "tags": t.tag_list, "status": t.status, "price_amount": t.price_amount, "currency": t.currency,
            "published_at": t.published_at, "created_at": t.created_at, "updated_at": t.updated_at,
            "description": t.description, "body": t.body, "variables": t.variables, "example_output": t.example_output,
        }
OWN_TEMPLATE_REFUSAL = "Your organization sells this item: there is nothing to buy."


def prompt_template_may_buy(item: PricedItem, organization, /) -> str | None:
    """Billing's buyer check: a seller organization does not buy its own template (it already has it)."""
    if organization is None:
        return None
    if PromptTemplate.objects.filter(slug=item.item_id, seller_id=organization.pk).exists():
        return OWN_TEMPLATE_REFUSAL
    return None


@dataclass(frozen=True)
class StudioSeat:
    """Where a user sells: the organization chosen (?org=), and every one they may sell for."""

    organization: Organization
    organizations: tuple[Organization, ...]


def studio_seat_for(*, user, organization_id: str | None = None) -> StudioSeat:
    """The seller organization a studio page works in.

    The user must be a seller or admin there: an organization they are not a member of is a
    404 (as one that does not exist), one where they are only a buyer is a 403.
    """
    memberships = list(membership_list_for_user(user=user))
    sellable = tuple(m.organization for m in memberships if m.role in PUBLISHER_ROLES)
    if organization_id:
        wanted = str(organization_id).strip()
        membership = next((m for m in memberships if str(m.organization_id) == wanted), None)
        if membership is None:
            raise Http404("No such organization.")
        if membership.role not in PUBLISHER_ROLES:
            raise PermissionDenied("Only sellers and admins of the organization can sell.")
        return StudioSeat(organization=membership.organization, organizations=sellable)
    if not sellable:
        raise PermissionDenied("Only sellers and admins of an organization can sell.")
    return StudioSeat(organization=sellable[0], organizations=sellable)


def studio_template_get(*, user, slug: str) -> PromptTemplate:
    """A template the user may edit: 404 unless a member of its seller, 403 for a buyer member."""
    template = PromptTemplate.objects.select_related("seller").filter(slug=slug).first()
    role = (
        Membership.objects.filter(organization_id=template.seller_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
        if template is not None
        else None
    )
    if role is None:
        raise Http404("No such prompt template.")
    if role not in PUBLISHER_ROLES:
        raise PermissionDenied("Only sellers and admins of the organization can edit its templates.")
    return template


def studio_template_list(*, seller: Organization) -> QuerySet[PromptTemplate]:
    return PromptTemplate.objects.filter(seller=seller).order_by("status", "-updated_at", "-id")


@dataclass(frozen=True)
class RatingSummary:
    average: Decimal
    count: int
    # (stars, how many, percent of the visible reviews), 5 stars first.
    distribution: tuple[tuple[int, int, int], ...]


def review_rating_summary(*, template: PromptTemplate) -> RatingSummary:
    """Average, count and distribution from the template's stored totals (the review services keep them): no query."""
    counts = template.rating_counts
    total = sum(counts.values())
    distribution = tuple(
        (stars, counts[stars], round(100 * counts[stars] / total) if total else 0) for stars in range(5, 0, -1)
    )
    return RatingSummary(average=template.rating_exact, count=template.rating_count, distribution=distribution)


def review_list_visible(*, template: PromptTemplate) -> QuerySet[Review]:
    return Review.objects.visible().filter(template=template).select_related("author__profile", "organization")


@dataclass(frozen=True)
class SellerBalance:
    currency: str
    credits: int
    debits: int
    payouts: int

    @property
    def balance(self) -> int:
        return self.credits - self.debits - self.payouts

    def display(self, amount: int) -> str:
        return money_display(amount=amount, currency=self.currency)

    @property
    def balance_display(self) -> str:
        return self.display(self.balance)


def seller_balances(*, seller: Organization) -> list[SellerBalance]:
    """Per currency: credits, debits and payouts (two grouped queries); USD first when present."""
    sums: dict[str, dict[str, int]] = {}
    for currency, kind, total in (
        LedgerEntry.objects.filter(seller=seller).values("currency", "kind").annotate(t=Sum("amount"))
    ).values_list("currency", "kind", "t"):
        sums.setdefault(currency, {})[kind] = total
    for currency, total in (
        Payout.objects.filter(seller=seller).values("currency").annotate(t=Sum("amount")).values_list("currency", "t")
    ):
        sums.setdefault(currency, {})["payout"] = total
    balances = [
        SellerBalance(
            currency=currency,
            credits=kinds.get(LedgerKind.CREDIT, 0),
            debits=kinds.get(LedgerKind.DEBIT, 0),
            payouts=kinds.get("payout", 0),
        )
        for currency, kinds in sums.items()
    ]
    return sorted(balances, key=lambda balance: (balance.currency != "usd", balance.currency))


def seller_sales_by_day(*, seller: Organization, days: int = 30, today: date | None = None) -> list[dict]:
    """Each of the last `days` days: sales (paid purchases credited) and revenue net of refunds, in minor units.

    Read from the ledger, which billing's callbacks keep in step with the money rows. Free
    templates credit nothing and so are not in this chart (they are in the sales counts).
    """
    end = today or timezone.localdate()
    start = end - timedelta(days=days - 1)
    rows = (
        LedgerEntry.objects.filter(seller=seller, created_at__date__gte=start, currency="usd")
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind")
        .annotate(n=Count("id"), gross=Sum("gross_amount"))
    )
    by_day = {start + timedelta(days=offset): {"sales": 0, "revenue": 0} for offset in range(days)}
    for row in rows:
        bucket = by_day.get(row["day"])
        if bucket is None:
            continue
        if row["kind"] == LedgerKind.CREDIT:
            bucket["sales"] += row["n"]
            bucket["revenue"] += row["gross"]
        else:
            bucket["revenue"] -= row["gross"]
    return [{"day": day.isoformat(), **values} for day, values in by_day.items()]


@dataclass(frozen=True)
class TemplateAudience:
    template: PromptTemplate
    views: int
    unique_viewers: int
    renders: int  # "Try it" renders by owners
    purchases: int  # paid in the period (free ones too; refunded later still counted)

    @property
    def conversion(self) -> Decimal | None:
        """purchases ÷ unique viewers × 100, two places, rounded half up; None without viewers."""
        if not self.unique_viewers:
            return None
        return (Decimal(self.purchases) * 100 / self.unique_viewers).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def seller_template_audience(
    *, seller: Organization, days: int = 30, today: date | None = None, limit: int = 10
) -> list[TemplateAudience] | None:
    """The seller's most viewed templates over the last `days` days: views, unique viewers, renders,
    purchases and conversion; None when nothing tracks views (the page says so instead of zeros).

    Views and renders come from whatever registered itself with common.item_audience (analytics
    does when it loads; the marketplace does not import it). Ordered by views, unique viewers,
    purchases (most first), then title.
    """
    end = today or timezone.localdate()
    start = end - timedelta(days=days - 1)
    templates = {t.slug: t for t in PromptTemplate.objects.filter(seller=seller).exclude(slug="")}
    audience = item_audience(item_type=ITEM_TYPE, item_ids=list(templates), first_day=start, last_day=end)
    if audience is None:
        return None
    period_start = datetime.combine(start, time.min, tzinfo=UTC)
    purchases = purchases_paid_count_by_item(
        item_type=ITEM_TYPE, item_ids=list(templates), start=period_start, end=period_start + timedelta(days=days)
    )
    rows = [
        TemplateAudience(
            template=template,
            views=audience[slug].views if slug in audience else 0,
            unique_viewers=audience[slug].unique_viewers if slug in audience else 0,
            renders=audience[slug].uses if slug in audience else 0,
            purchases=purchases.get(slug, 0),
        )
        for slug, template in templates.items()
    ]
    rows.sort(key=lambda row: (-row.views, -row.unique_viewers, -row.purchases, row.template.title, row.template.pk))
    return rows[:limit]


def seller_top_templates(*, seller: Organization, limit: int = 10) -> QuerySet[PromptTemplate]:
    return PromptTemplate.objects.filter(seller=seller).order_by("-revenue_amount", "-sales_count", "title")[:limit]


def seller_recent_reviews(*, seller: Organization, limit: int = 10) -> QuerySet[Review]:
    return (
        Review.objects.visible()
        .filter(template__seller=seller)
        .select_related("template", "author__profile")
        .order_by("-created_at")[:limit]
    )


def seller_ledger_entries(*, seller: Organization) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(seller=seller).select_related("template").order_by("-created_at", "-id")


def seller_payouts(*, seller: Organization) -> QuerySet[Payout]:
    return Payout.objects.filter(seller=seller).order_by("-paid_on", "-id")


class Sort(models.TextChoices):
    RELEVANCE = "relevance", "Relevance"
    NEWEST = "newest", "Newest"
    RATING = "rating", "Best rated"
    BESTSELLING = "bestselling", "Best selling"
    PRICE_LOW = "price", "Price: low to high"
    PRICE_HIGH = "-price", "Price: high to low"


SORT_ORDER = {
    Sort.NEWEST: ("-published_at", "-id"),
    Sort.RATING: ("-rating_average", "-rating_count", "-id"),
    Sort.BESTSELLING: ("-sales_count", "-rating_average", "-id"),
    Sort.PRICE_LOW: ("price_amount", "-rating_average", "id"),
    Sort.PRICE_HIGH: ("-price_amount", "-rating_average", "id"),
}


@dataclass(frozen=True)
class BrowseFilters:
    """What a catalogue page or the list API asks for; every field optional."""

    query: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    price_min: int | None = None  # minor units, inclusive
    price_max: int | None = None
    pricing: str = ""  # "free", "paid" or ""
    min_rating: Decimal | None = None
    seller: str = ""  # the seller organization's slug
    sort: str = ""


# What a catalogue page and the list API show of each template (and what its price needs): its rows are
# read with these columns only, not the body, variables, example output or validation result.
# Measured on the bench database: a page of 24 rows by primary key, 2.5-3.4 ms with every column,
# 1.4-1.6 ms with these (fewer columns to read, no JSON to decode, lighter model instances).
CATALOGUE_FIELDS = (
    "slug", "title", "description", "category", "tags", "seller", "seller__name", "seller__slug", "price_amount",
    "currency", "rating_count", "rating_sum", "sales_count", "published_at",
)


def prompt_template_browse(*, filters: BrowseFilters) -> QuerySet[PromptTemplate]:
    """Listed templates matching the filters, in the order asked for.

    With a query the default order is relevance (common.search: full-text plus trigram
    similarity, typos forgiven); without one, newest first. The filters run in SQL before
    the search ranks, so the SQLite fallback ranks only what is left. The rows hold
    CATALOGUE_FIELDS only (another field is one more query per row).
    """
    templates = PromptTemplate.objects.listed().select_related("seller").only(*CATALOGUE_FIELDS)
    if filters.category in Category.values:
        templates = templates.filter(category=filters.category)
    for tag in filters.tags:
        # Tags are comma-separated: match a whole tag, not part of another one.
        templates = templates.filter(tags__iregex=r"(^|,)\s*" + re.escape(tag) + r"\s*(,|$)")
    if filters.price_min is not None:
        templates = templates.filter(price_amount__gte=filters.price_min)
    if filters.price_max is not None:
        templates = templates.filter(price_amount__lte=filters.price_max)
    if filters.pricing == "free":
        templates = templates.filter(price_amount=0)
    elif filters.pricing == "paid":
        templates = templates.filter(price_amount__gt=0)
    if filters.min_rating is not None:
        templates = templates.filter(rating_count__gt=0, rating_average__gte=filters.min_rating)
    if filters.seller:
        templates = templates.filter(seller__slug=filters.seller)
    sort = filters.sort if filters.sort in Sort.values else ""
    words = search_words(filters.query)
    # Which templates match (and in what relevance order) does not depend on the sort or the page.
    unsorted = dataclasses.replace(filters, query="", sort="")
    caps = (pagination.COUNT_CAP, pagination.SEARCH_COUNT_CAP)
    read = CatalogueRead(key=catalogue_key("browse", words, unsorted, caps))
    if words:
        # The best SEARCH_COUNT_CAP + 1: the pages count to that cap, then say "300+".
        scores = read.hit
        if scores is None:
            scores = search_scores(queryset=templates, query=filters.query, limit=pagination.SEARCH_COUNT_CAP + 1)
            read.store(scores)
        ranked = search_ranked(queryset=templates, scores=scores)
        if sort in ("", Sort.RELEVANCE):
            return pagination.with_known_order(ranked, ids=[pk for pk, _ in scores], rows=templates)
        return pagination.with_known_count(ranked.order_by(*SORT_ORDER[sort]), len(scores))
    listed = templates.order_by(*SORT_ORDER.get(sort, SORT_ORDER[Sort.NEWEST]))
    count = read.hit
    if count is None:
        count = pagination.capped_count(templates, cap=pagination.COUNT_CAP)
        read.store(count)
    return pagination.with_known_count(listed, count)


def prompt_template_related(*, template: PromptTemplate, limit: int = 4) -> list[PromptTemplate]:
    """Other listed templates a viewer of this one may want: same category, sharing tags first, then best selling.

    Which ones is chosen from the 40 best selling of the category (their ids and tags only) and
    kept in the catalogue's cache (every change to sales, ratings or tags bumps its generation);
    the chosen rows are read fresh by primary key.
    """
    read = CatalogueRead(key=catalogue_key("related", template.pk, template.category, template.tags, limit))
    chosen = read.hit
    if chosen is None:
        candidates = list(
            PromptTemplate.objects.listed()
            .filter(category=template.category)
            .exclude(pk=template.pk)
            .order_by("-sales_count", "-rating_average", "-id")
            .values_list("pk", "tags")[:40]
        )
        tags = set(template.tag_list)
        candidates.sort(key=lambda other: -len(tags & set(tag_list_of(other[1]))))  # stable: best selling first
        chosen = [pk for pk, _ in candidates[:limit]]
        read.store(chosen)
    if not chosen:
        return []
    rows = PromptTemplate.objects.listed().filter(pk__in=chosen).select_related("seller").order_by()
    # What the page shows of each: not their bodies and variable lists.
    found = {row.pk: row for row in rows.only("slug", "title", "tags", "rating_count", "rating_sum", "seller__name")}
    return [found[pk] for pk in chosen if pk in found]


def seller_list_selling() -> QuerySet[Organization]:
    """Organizations with at least one listed template, by name (the seller filter's choices)."""
    return (
        Organization.objects.filter(prompt_templates__status="published", prompt_templates__visibility="public")
        .distinct()
        .order_by("name")
    )


@dataclass(frozen=True)
class TemplateVersion:
    number: int  # 1 for the first published version
    version: Version

    @property
    def fields(self) -> dict:
        return self.version.field_dict

    @property
    def created_at(self):
        return self.version.revision.date_created

    @property
    def author(self):
        return self.version.revision.user

    @property
    def comment(self) -> str:
        return self.version.revision.comment


def prompt_template_versions(*, template: PromptTemplate) -> list[TemplateVersion]:
    """Every published state of the template, newest first, numbered from the first."""
    versions = list(Version.objects.get_for_object(template).select_related("revision__user"))
    return [TemplateVersion(number=len(versions) - i, version=version) for i, version in enumerate(versions)]


def owned_version_for(*, viewer: Viewer, template: PromptTemplate) -> TemplateVersion | None:
    """The version this viewer's organization bought, when it is no longer the newest (two queries at most)."""
    if viewer.organization is None:
        return None
    owned = (
        OwnedVersion.objects.filter(
            template=template, purchase__organization=viewer.organization, purchase__status__in=OWNING_STATUSES
        )
        .exclude(version__isnull=True)
        .order_by("-purchase__paid_at")
        .values_list("version_id", flat=True)
        .first()
    )
    if owned is None:
        return None
    versions = prompt_template_versions(template=template)
    if versions and versions[0].version.pk == owned:
        return None
    return next((v for v in versions if v.version.pk == owned), None)


@dataclass(frozen=True)
class PageReviews:
    reviews: list[Review]  # visible, newest first
    own: Review | None  # this member's review for this organization, even hidden


def review_list_for_page(*, template: PromptTemplate, user_id: int | None, organization_id: int | None, limit: int):
    """The visible reviews and the viewer's own one (hidden or not, first), in one query."""
    mine = Q(author_id=user_id, organization_id=organization_id) if user_id and organization_id else Q(pk__in=[])
    rows = list(
        Review.objects.filter(template=template)
        .filter(Q(hidden_at__isnull=True) | mine)
        .annotate(mine=Case(When(mine, then=Value(1)), default=Value(0), output_field=models.IntegerField()))
        .select_related("author__profile")
        .order_by("-mine", "-created_at", "-id")[: limit + 1]
    )
    own = rows[0] if rows and rows[0].mine else None
    visible = sorted((r for r in rows if not r.is_hidden), key=lambda r: (r.created_at, r.pk), reverse=True)
    return PageReviews(reviews=visible[:limit], own=own)


def library_list(*, organization: Organization) -> QuerySet[PromptTemplate]:
    """The templates the organization owns through a purchase, whatever their status now."""
    owned = purchased_item_ids(item_type=ITEM_TYPE, organization_id=organization.pk)
    return PromptTemplate.objects.filter(slug__in=owned).select_related("seller").order_by("title", "id")


def marketplace_data_for_person(*, user) -> dict:
    """A person's reviews (with the seller's replies) and review reports, for their GDPR export."""
    return {
        "reviews": [
            {
                "template": review.template.slug,
                "organization_id": review.organization_id,
                "rating": review.rating,
                "text": review.text,
                "seller_reply": review.seller_reply,
                "hidden_by_staff": review.is_hidden,
                "created_at": review.created_at,
                "updated_at": review.updated_at,
            }
            for review in Review.objects.filter(author=user).select_related("template").order_by("created_at", "id")
        ],
        "review_reports": [
            {"review": report.review_id, "reason": report.reason, "created_at": report.created_at}
            for report in ReviewReport.objects.filter(reporter=user).order_by("created_at", "id")
        ],
    }
