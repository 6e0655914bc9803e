"""Reads of the marketplace: what is on sale, at what price for this viewer, and what they own."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Organization
from accounts.selectors.organizations import membership_list_for_user
from billing.money import money_display
from billing.purchasables import PricedItem
from billing.selectors import purchased_item_ids
from billing.services.pricing import Quote
from billing.services.purchases import purchase_quote
from marketplace.models import Category, PromptTemplate

ITEM_TYPE = "prompt_template"


@dataclass(frozen=True)
class Viewer:
    """Who looks at the marketplace.

    Signed in, the page speaks for one of the user's organizations (`organization`: the
    one chosen with ?org=<id>, else their primary one, as billing's Buy endpoint picks),
    which buys and owns purchases; members of a selling organization also own its
    templates. Signed out, purchases are kept with the browser session's anonymous buyer id.
    """

    organization: Organization | None = None
    organizations: tuple[Organization, ...] = ()  # all the user's organizations, primary first
    anonymous_session_id: str = ""

    @property
    def member_of(self) -> frozenset[int]:
        return frozenset(organization.pk for organization in self.organizations)


@dataclass(frozen=True)
class TemplateOffer:
    template: PromptTemplate
    quote: Quote
    owned: bool

    @property
    def price_display(self) -> str:
        return money_display(amount=self.quote.amount, currency=self.template.currency)

    @property
    def list_price_display(self) -> str:
        return money_display(amount=self.quote.list_amount, currency=self.template.currency)

    @property
    def discounted(self) -> bool:
        return self.quote.discount_amount > 0


def viewer_for(*, user, anonymous_session_id: str = "", organization_id: str | None = None) -> Viewer:
    """The viewer behind a request: one query for a signed-in user, none for a visitor.

    An `organization_id` the user is not a member of is a 404, as for one that does not exist.
    """
    if not user.is_authenticated:
        return Viewer(anonymous_session_id=anonymous_session_id)
    organizations = tuple(membership.organization for membership in membership_list_for_user(user=user))
    if organization_id:
        chosen = next((org for org in organizations if str(org.pk) == str(organization_id).strip()), None)
        if chosen is None:
            raise Http404("No such organization.")
    else:
        chosen = organizations[0] if organizations else None
    return Viewer(organization=chosen, organizations=organizations)


def prompt_template_list_published(*, category: str = "") -> QuerySet[PromptTemplate]:
    """Templates on sale, newest first; an unknown category filters nothing out."""
    templates = PromptTemplate.objects.published().select_related("seller")
    if category in Category.values:
        templates = templates.filter(category=category)
    return templates


def prompt_template_get_for_viewer(*, slug: str, viewer: Viewer) -> PromptTemplate:
    """A published template, or a draft to members of its selling organization; 404 otherwise."""
    template = PromptTemplate.objects.select_related("seller").filter(slug=slug).first()
    if template is None or not (template.is_published or template.seller_id in viewer.member_of):
        raise Http404("No such prompt template.")
    return template


def prompt_template_owned_slugs(*, viewer: Viewer) -> set[str]:
    """Slugs of the templates the viewer's organization (or browser session) bought. One query."""
    if viewer.organization is not None:
        return purchased_item_ids(item_type=ITEM_TYPE, organization_id=viewer.organization.pk)
    return purchased_item_ids(item_type=ITEM_TYPE, anonymous_session_id=viewer.anonymous_session_id)


def prompt_template_offers(*, viewer: Viewer, templates: Iterable[PromptTemplate]) -> list[TemplateOffer]:
    """Each template with the price this viewer would pay now and whether they own it.

    Ownership is one query for the whole page. Prices come from billing's quote (its
    discount rules), asked once per distinct list price rather than once per template.
    """
    bought = prompt_template_owned_slugs(viewer=viewer)
    quotes: dict[int, Quote] = {}
    offers = []
    for template in templates:
        if template.price_amount not in quotes:
            quotes[template.price_amount] = purchase_quote(
                organization=viewer.organization, item_type=ITEM_TYPE, list_amount=template.price_amount
            )
        owned = template.slug in bought or template.seller_id in viewer.member_of
        offers.append(TemplateOffer(template=template, quote=quotes[template.price_amount], owned=owned))
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
