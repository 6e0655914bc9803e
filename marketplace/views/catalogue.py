"""Marketplace pages: the catalogue, a template's page (Buy, or the body and "Try it" once owned).

Thin: selectors say what is on sale, at what price and who owns it; services render.
Buying is billing's Buy endpoint (billing:purchase_buy); it comes back to the template's page.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError

from billing.anonymous import anonymous_buyer_id
from billing.selectors import Viewer, billing_organizations_for, viewer_for
from marketplace.models import Category, PromptTemplate, Review
from marketplace.selectors import (
    ITEM_TYPE,
    prompt_template_get_for_viewer,
    prompt_template_list_published,
    prompt_template_offers,
    review_list_visible,
    review_rating_summary,
)
from marketplace.services.templates import prompt_template_render

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
        "organizations": billing_organizations_for(user=request.user) if request.user.is_authenticated else [],
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


@require_GET
def index(request):
    category = request.GET.get("category", "")
    page = Paginator(prompt_template_list_published(category=category), PAGE_SIZE).get_page(request.GET.get("page"))
    viewer = request_viewer(request)
    context = {
        **_page_context(request, viewer),
        "offers": prompt_template_offers(viewer=viewer, templates=page.object_list),
        "page": page,
        "categories": Category.choices,
        "category": category if category in Category.values else "",
    }
    return render(request, "marketplace/index.html", context)


def _detail_context(request, *, slug: str) -> dict:
    viewer = request_viewer(request)
    template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
    (offer,) = prompt_template_offers(viewer=viewer, templates=[template])
    reviews = list(review_list_visible(template=template)[:REVIEWS_SHOWN])
    user_id = request.user.pk if request.user.is_authenticated else None
    # Hidden ones count too: a member writes one review per template and organization.
    has_reviewed = user_id is not None and (
        any(review.author_id == user_id and review.organization_id == viewer.organization.pk for review in reviews)
        or Review.objects.filter(template=template, author_id=user_id, organization=viewer.organization).exists()
    )
    is_seller = request.user.is_authenticated and template.seller_id in viewer.member_of
    return {
        **_page_context(request, viewer),
        "template": template,
        "offer": offer,
        "item_type": ITEM_TYPE,
        "next_url": request.get_full_path(),  # back here (and to this organization) after Checkout
        "rendered": None,
        "rating": review_rating_summary(template=template),
        "reviews": reviews,
        # Owners who are not the seller may write one review (checked again by the service).
        "may_review": not has_reviewed and offer.owned and not is_seller and viewer.organization is not None,
        "is_seller": is_seller,
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
        context["rendered"] = prompt_template_render(template=template, values=values)
        errors = {}
    except ValidationError as error:
        errors = error.detail
    context["fields"] = _variable_fields(template=template, values=values, errors=errors)
    # Errors come back with 200 like any re-shown form (htmx swaps only successful responses).
    page = "marketplace/_try_it.html" if request.headers.get("HX-Request") else "marketplace/detail.html"
    return render(request, page, context)
