"""The staff dashboard of business metrics (in the back office; the admin's login and MFA guard it),
and the endpoint the pages' click script sends its batches to."""

import json
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from analytics.api.metrics import can_view_metrics
from analytics.periods import GRANULARITIES, ReportPeriod, month_start
from analytics.selectors import (
    cohort_retention,
    content_before_conversion,
    conversion_funnel,
    customer_lifetime_values,
    growth_series,
    mrr_series,
    revenue_trend,
    top_content,
)
from analytics.services import MAX_CLICKS, Click, clicks_record
from common.events import event_source

DEFAULT_DAYS = 365


class DashboardForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    granularity = forms.ChoiceField(choices=[(g, g.capitalize()) for g in GRANULARITIES], required=False)

    def clean(self):
        values = super().clean()
        end = values.get("end") or timezone.now().date()
        start = values.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise forms.ValidationError("The end is before the start.")
        if (end - start).days > 3 * 366:
            raise forms.ValidationError("At most three years at a time.")
        values.update(start=start, end=end, granularity=values.get("granularity") or "month")
        return values


def _heat(value) -> int:
    """A cohort cell's shade, 0 to 10 (CSS classes heat-0 … heat-10)."""
    return 0 if value is None else min(10, int(value // 10))


def dashboard(request):
    if not can_view_metrics(request.user):
        raise PermissionDenied
    form = DashboardForm(request.GET)
    if form.is_valid():
        values = form.cleaned_data
    else:  # the defaults, and the form shows what was wrong
        defaults = DashboardForm({})
        defaults.is_valid()
        values = defaults.cleaned_data
    period = ReportPeriod(first_day=values["start"], last_day=values["end"])
    granularity = values["granularity"]
    query = urlencode({"start": period.first_day, "end": period.last_day, "granularity": granularity})

    mrr = [p for p in mrr_series(period=period, granularity="month") if p.day == period.last_day]
    [growth] = growth_series(period=period, granularity="period")
    revenue = revenue_trend(period=period, granularity="period")
    cohorts = cohort_retention(first_month=month_start(period.first_day), last_month=period.last_day)
    width = max((len(c.retention) for c in cohorts), default=0)
    cohort_rows = [
        {
            "month": c.month,
            "customers": c.customers,
            "cells": [{"value": v, "heat": _heat(v)} for v in c.retention] + [None] * (width - len(c.retention)),
        }
        for c in cohorts
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Business metrics",
        # The dates in force shown in the pickers; a wrong entry is shown with its error.
        "form": DashboardForm(initial=values) if form.is_valid() else form,
        "period": period,
        "granularity": granularity,
        "query": query,
        "kpis": mrr,
        "growth": growth,
        "revenue": revenue,
        "cohort_rows": cohort_rows,
        "cohort_offsets": range(width),
        "customers": customer_lifetime_values(limit=10),
        "content": top_content(period=period, limit=10),
        "funnel": conversion_funnel(period=period),
        "conversion": content_before_conversion(period=period, limit=10),
    }
    return render(request, "analytics/dashboard.html", context)


CLICK_LIMITS = {"target": 64, "path": 500, "item_type": 32, "item_id": 64}


def _clicks_from(raw: str) -> list[Click] | None:
    """The clicks of a batch, or None when it is not a list of 1 to MAX_CLICKS well-formed clicks."""
    try:
        items = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CLICKS:
        return None
    clicks = []
    for item in items:
        if not isinstance(item, dict) or set(item) - set(CLICK_LIMITS):
            return None
        values = {name: item.get(name, "") for name in CLICK_LIMITS}
        if not all(isinstance(v, str) and len(v) <= CLICK_LIMITS[k] for k, v in values.items()) or not values["target"]:
            return None
        clicks.append(Click(**values))
    return clicks


@require_POST
def clicks(request):
    """POST /analytics/clicks from static/analytics/clicks.js (navigator.sendBeacon): a form with the CSRF
    token and `events`, a JSON list of up to 20 clicks on elements marked `data-track`.

    A page endpoint rather than the events API: visitors who are not signed in click too, and
    who clicked is the request's session and visitor cookie, never what the page says. 204;
    400 for a malformed batch (nothing kept); 403 without the CSRF token (Django's check).
    """
    batch = _clicks_from(request.POST.get("events", ""))
    if batch is None:
        return HttpResponseBadRequest("events: a JSON list of 1 to 20 clicks {target, path, item_type, item_id}.")
    clicks_record(source=event_source(request), clicks=batch)
    return HttpResponse(status=204)
