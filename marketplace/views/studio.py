"""The seller studio: a seller organization's templates, the editor with its preview, publishing.

Thin: `studio_seat_for` / `studio_template_get` say who may work where (404 for another
organization, 403 for a buyer member); the services hold every rule.
"""

import csv
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException, ValidationError

from billing.money import money_display
from marketplace.forms import TemplateForm
from marketplace.models import PromptTemplate
from marketplace.selectors import (
    prompt_template_versions,
    seller_balances,
    seller_ledger_entries,
    seller_payouts,
    seller_recent_reviews,
    seller_sales_by_day,
    seller_template_audience,
    seller_top_templates,
    studio_seat_for,
    studio_template_get,
    studio_template_list,
)
from marketplace.services.templates import (
    prompt_template_archive,
    prompt_template_create,
    prompt_template_problems,
    prompt_template_publish,
    prompt_template_render,
    prompt_template_sample_values,
    prompt_template_unpublish,
    prompt_template_update,
    prompt_template_validate,
)

LEDGER_SHOWN = 50
ACTIONS = {
    "validate": prompt_template_validate,
    "publish": prompt_template_publish,
    "unpublish": prompt_template_unpublish,
    "archive": prompt_template_archive,
}
DONE = {
    "validate": "Checked: the result is below.",
    "publish": "Published: it is on sale now.",
    "unpublish": "Taken off sale: it is a draft again.",
    "archive": "Archived: off sale for good; buyers keep it.",
}


def _preview(template: PromptTemplate) -> dict:
    """The body rendered with sample values, or why it cannot be yet."""
    try:
        return {
            "text": prompt_template_render(template=template, values=prompt_template_sample_values(template=template))
        }
    except (ValidationError, KeyError, TypeError, AttributeError):
        return {"text": "", "error": "Fix the variables to see a preview."}


def _form_errors(form: TemplateForm, error: ValidationError) -> list[str]:
    """Put the services' per-field messages on the form; return those that belong to no form field."""
    detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
    other = []
    for field, messages_ in detail.items():
        texts = [str(message) for message in (messages_ if isinstance(messages_, list) else [messages_])]
        target = "price" if field == "price_amount" else field
        if target in form.fields:
            for text in texts:
                form.add_error(target, text)
        else:
            other += [f"{field}: {text}" if field not in ("", "variables") else text for text in texts]
    return other


@login_required
def studio_index(request):
    seat = studio_seat_for(user=request.user, organization_id=request.GET.get("org"))
    return render(
        request,
        "marketplace/studio/index.html",
        {"seat": seat, "templates": studio_template_list(seller=seat.organization)},
    )


@login_required
def studio_new(request):
    seat = studio_seat_for(user=request.user, organization_id=request.GET.get("org"))
    form = TemplateForm(request.POST or None)
    problems, preview = [], None
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if request.POST.get("action") == "preview":
            preview = _preview(PromptTemplate(**data))
        else:
            try:
                template = prompt_template_create(seller=seat.organization, actor=request.user, data=data)
            except ValidationError as error:
                problems = _form_errors(form, error)
            else:
                messages.success(request, "Draft saved.")
                return redirect("marketplace:studio_edit", slug=template.slug)
    context = {"seat": seat, "form": form, "problems": problems, "preview": preview, "template": None}
    return render(request, "marketplace/studio/edit.html", context)


@login_required
def studio_edit(request, slug: str):
    template = studio_template_get(user=request.user, slug=slug)
    form = TemplateForm(request.POST or None, template=template)
    problems, preview = [], None
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if request.POST.get("action") == "preview":
            draft = PromptTemplate(seller=template.seller, **data)
            preview = _preview(draft)
        else:
            try:
                template = prompt_template_update(template=template, actor=request.user, data=data)
            except APIException as error:
                problems = _form_errors(form, error) if isinstance(error, ValidationError) else [str(error.detail)]
            else:
                messages.success(request, "Saved." if not template.is_published else "Saved: buyers see the change.")
                return redirect("marketplace:studio_edit", slug=template.slug)
    if preview is None:
        preview = _preview(template)
    context = {
        "form": form,
        "template": template,
        "problems": problems,
        "preview": preview,
        # What still stands between this draft and publishing (shown on the page, checked again on publish).
        "publish_problems": prompt_template_problems(template=template) if not template.is_published else {},
        "public_url": reverse("marketplace:detail", args=[template.slug]),
        "versions": prompt_template_versions(template=template),
        "ai_validation": settings.MARKETPLACE_AI_VALIDATION,
    }
    return render(request, "marketplace/studio/edit.html", context)


@login_required
@require_POST
def studio_action(request, slug: str, action: str):
    template = studio_template_get(user=request.user, slug=slug)
    change = ACTIONS.get(action)
    if change is None:
        return redirect("marketplace:studio_edit", slug=slug)
    try:
        change(template=template, actor=request.user)
    except ValidationError as error:
        detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
        for messages_ in detail.values():
            for message in messages_ if isinstance(messages_, list) else [messages_]:
                messages.error(request, str(message))
    except APIException as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, DONE[action])
    return redirect("marketplace:studio_edit", slug=slug)


@login_required
def dashboard(request):
    """Sales and revenue over time, top templates, recent reviews, the balance, ledger and payouts."""
    seat = studio_seat_for(user=request.user, organization_id=request.GET.get("org"))
    seller = seat.organization
    days = seller_sales_by_day(seller=seller, days=30)
    context = {
        "seat": seat,
        "balances": seller_balances(seller=seller),
        # Read by static/marketplace/dashboard.js from data- attributes (no inline script under the CSP).
        "chart_labels": json.dumps([day["day"] for day in days]),
        "chart_sales": json.dumps([day["sales"] for day in days]),
        "chart_revenue": json.dumps([day["revenue"] / 100 for day in days]),
        "totals": {
            "sales": sum(day["sales"] for day in days),
            "revenue": money_display(amount=sum(day["revenue"] for day in days), currency="usd"),
        },
        "top_templates": seller_top_templates(seller=seller),
        # None when nothing tracks views: the page says "not tracked yet" rather than show zeros.
        "audience": seller_template_audience(seller=seller, days=30),
        "recent_reviews": seller_recent_reviews(seller=seller),
        "entries": seller_ledger_entries(seller=seller)[:LEDGER_SHOWN],
        "payouts": seller_payouts(seller=seller)[:LEDGER_SHOWN],
    }
    return render(request, "marketplace/studio/dashboard.html", context)


@login_required
def dashboard_csv(request):
    """The seller's ledger entries and payouts, oldest first, as CSV (amounts in minor units)."""
    seat = studio_seat_for(user=request.user, organization_id=request.GET.get("org"))
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="ledger-{seat.organization.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "kind", "template", "purchase", "gross", "fee", "amount", "currency", "reference"])
    rows = []
    for entry in seller_ledger_entries(seller=seat.organization).order_by("created_at", "id"):
        template = entry.template.slug if entry.template else ""
        gross = entry.gross_amount
        rows.append(
            (
                entry.created_at.isoformat(),
                entry.kind,
                template,
                entry.purchase_id,
                gross,
                entry.fee_amount,
                entry.amount,
            )
            + (entry.currency, "")
        )
    for payout in seller_payouts(seller=seat.organization):
        rows.append(
            (payout.paid_on.isoformat(), "payout", "", "", "", "", payout.amount, payout.currency, payout.reference)
        )
    rows.sort(key=lambda row: row[0])
    writer.writerows(_csv_safe(row) for row in rows)
    return response


def _csv_safe(row: tuple) -> list:
    # A cell starting with = + - @ would run as a formula in a spreadsheet: quote it as text.
    return [f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@") else cell for cell in row]
