"""Marketplace pages: the catalogue, a template's page (Buy, or the body and "Try it" once owned).

Thin: selectors say what is on sale, at what price and who owns it; services render.
Buying is billing's Buy endpoint (billing:purchase_buy); it comes back to the template's page.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError

from billing.anonymous import anonymous_buyer_id
from billing.selectors import Viewer, billing_organizations_for, viewer_for
from common.events import event_source
from common.search import search_words
from marketplace.forms import BrowseForm
from marketplace.models import Category, PromptTemplate
from marketplace.pagination import CappedPaginator, count_cap
from marketplace.selectors import (
    ITEM_TYPE,
    Sort,
    library_list,
    owned_version_for,
    prompt_template_browse,
    prompt_template_get_for_viewer,
    prompt_template_offers,
    prompt_template_related,
    review_list_for_page,
    review_rating_summary,
    seller_list_selling,
)
from marketplace.services.browsing import catalogue_browse_record
from marketplace.services.templates import prompt_template_try

PAGE_SIZE = 24
REVIEWS_SHOWN = 20


def request_viewer(request) -> Viewer:
    # Reading never creates an anonymous buyer id; billing's Buy endpoint does when needed.
    return viewer_for(
        user=request.user,
        anonymous_session_id=anonymous_buyer_id(request.session),
        organization_id=request.GET.get("org"),
    )


def _page_context(request, viewer: Viewer) -> dict:
    chosen = viewer.organization if request.GET.get("org") else None
    return {
        "organization": viewer.organization,
        # The switcher shows only for several organizations: a single one costs no query.
        "organizations": billing_organizations_for(user=request.user) if len(viewer.organizations) > 1 else [],
        # Links, the Buy form and "Try it" stay with the organization the user chose.
        "org_id": chosen.pk if chosen else None,
        "org_query": f"?org={chosen.pk}" if chosen else "",
    }


def _variable_fields(*, template: PromptTemplate, values=None, errors=None) -> list[dict]:
    """The "Try it" form's fields: each variable with the value to show and its errors."""
    values, errors = values or {}, errors or {}
    fields = []
    for variable in template.variables:
        name = variable["name"]
        default = variable.get("default")
        fields.append(
            {
                "name": name,
                "type": variable.get("type"),
                "choices": [str(choice) for choice in variable.get("choices") or []],
                "default": "" if default is None else str(default),
                "required": default is None,
                "value": values.get(name, "" if default is None else str(default)),
                "errors": [str(message) for message in errors.get(name, [])],
            }
        )
    return fields


def query_with(params, **changes) -> str:
    """The current query string with some parameters changed (None drops one): shareable links."""
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value not in (None, ""):
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@require_GET
def index(request):
    form = BrowseForm(request.GET or None)
    form.is_valid()
    filters = form.filters()
    searching = bool(search_words(filters.query))
    paginator = CappedPaginator(prompt_template_browse(filters=filters), PAGE_SIZE, cap=count_cap(searching=searching))
    page = paginator.get_page(request.GET.get("page"))
    viewer = request_viewer(request)
    if page.number == 1:
        catalogue_browse_record(
            source=event_source(request),
            filters=filters,
            results=paginator.count,
            organization_id=viewer.organization.pk if viewer.organization else None,
        )
    sorts = [(value, label) for value, label in Sort.choices if searching or value != Sort.RELEVANCE]
    current_sort = filters.sort or (Sort.RELEVANCE if searching else Sort.NEWEST)
    context = {
        **_page_context(request, viewer),
        "form": form,
        "filters": filters,
        "offers": prompt_template_offers(viewer=viewer, templates=page.object_list),
        "page": page,
        "categories": Category.choices,
        "category": filters.category,
        "category_links": [
            (value, label, query_with(request.GET, category=value, page=None)) for value, label in Category.choices
        ],
        "all_categories_link": query_with(request.GET, category=None, page=None),
        "sort_links": [(value, label, query_with(request.GET, sort=value, page=None)) for value, label in sorts],
        "current_sort": current_sort,
        "previous_link": query_with(request.GET, page=page.previous_page_number()) if page.has_previous() else "",
        "next_link": query_with(request.GET, page=page.next_page_number()) if page.has_next() else "",
        "sellers": seller_list_selling(),
        "searching": searching,
    }
    return render(request, "marketplace/index.html", context)


def _detail_context(request, *, slug: str) -> dict:
    viewer = request_viewer(request)
    template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
    (offer,) = prompt_template_offers(viewer=viewer, templates=[template])
    user_id = request.user.pk if request.user.is_authenticated else None
    organization_id = viewer.organization.pk if viewer.organization is not None else None
    page_reviews = review_list_for_page(
        template=template, user_id=user_id, organization_id=organization_id, limit=REVIEWS_SHOWN
    )
    is_seller = request.user.is_authenticated and template.seller_id in viewer.member_of
    # Owners who are not the seller may write one review (checked again by the service).
    may_review = offer.owned and not is_seller and organization_id is not None and page_reviews.own is None
    may_own_version = offer.owned and not is_seller
    return {
        **_page_context(request, viewer),
        "template": template,
        "offer": offer,
        "item_type": ITEM_TYPE,
        "next_url": request.get_full_path(),  # back here (and to this organization) after Checkout
        "rendered": None,
        "rating": review_rating_summary(template=template),
        "reviews": page_reviews.reviews,
        "own_review": page_reviews.own,
        "may_review": may_review,
        "bought_version": owned_version_for(viewer=viewer, template=template) if may_own_version else None,
        "is_seller": is_seller,
        "related": prompt_template_related(template=template),
    }


@require_GET
def detail(request, slug: str):
    context = _detail_context(request, slug=slug)
    if context["offer"].owned:
        context["fields"] = _variable_fields(template=context["template"])
    return render(request, "marketplace/detail.html", context)


@require_POST
def try_it(request, slug: str):
    """Render the template with the posted values: the text, or the form with its errors (htmx swaps it in)."""
    context = _detail_context(request, slug=slug)
    template = context["template"]
    if not context["offer"].owned:
        raise PermissionDenied("Buy this template to use it.")
    values = {variable["name"]: request.POST.get(variable["name"], "") for variable in template.variables}
    try:
        organization = context["organization"]
        context["rendered"] = prompt_template_try(
            template=template,
            values=values,
            organization_id=organization.pk if organization else None,
            source=event_source(request),
        )
        errors = {}
    except ValidationError as error:
        errors = error.detail
    context["fields"] = _variable_fields(template=template, values=values, errors=errors)
    # Errors come back with 200 like any re-shown form (htmx swaps only successful responses).
    page = "marketplace/_try_it.html" if request.headers.get("HX-Request") else "marketplace/detail.html"
    return render(request, page, context)


@login_required
@require_GET
def library(request):
    """What the organization the page speaks for owns through purchases, with links to use each."""
    viewer = request_viewer(request)
    templates = library_list(organization=viewer.organization) if viewer.organization is not None else []
    context = {**_page_context(request, viewer), "templates": templates}
    return render(request, "marketplace/library.html", context)
