"""Reads of the marketplace: what is on sale, at what price for this viewer, and what they own."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from billing.money import money_display
from billing.purchasables import PricedItem
from billing.selectors import Viewer
from billing.services.pricing import Quote
from billing.services.purchases import purchase_quote
from marketplace.models import Category, PromptTemplate

ITEM_TYPE = "prompt_template"


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


def prompt_template_offers(*, viewer: Viewer, templates: Iterable[PromptTemplate]) -> list[TemplateOffer]:
    """Each template with the price this viewer would pay now and whether they own it.

    Ownership is one query for the whole page. Prices come from billing's quote (its
    discount rules), asked once per distinct list price rather than once per template.
    """
    bought = viewer.owned_item_ids(item_type=ITEM_TYPE)
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


OWN_TEMPLATE_REFUSAL = "Your organization sells this item: there is nothing to buy."


def prompt_template_may_buy(item: PricedItem, organization, /) -> str | None:
    """Billing's buyer check: a seller organization does not buy its own template (it already has it)."""
    if organization is None:
        return None
    if PromptTemplate.objects.filter(slug=item.item_id, seller_id=organization.pk).exists():
        return OWN_TEMPLATE_REFUSAL
    return None
