"""The back-office dashboard and the admin index: who sees them, what they show; the demo history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.demo import seed_demo
from analytics.periods import ReportPeriod
from analytics.selectors import (
    cohort_retention,
    conversion_funnel,
    growth_series,
    mrr_series,
    revenue_trend,
    top_content,
)
from analytics.tests.test_api_series import business  # noqa: F401 — the fixture
from billing.models import SubscriptionHistory

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"


def test_staff_see_kpis_tables_and_chart_sources(staff_client, business):  # noqa: F811
    response = staff_client.get(f"{URL}?start=2026-11-01&end=2026-11-30&granularity=week")
    assert response.status_code == 200
    page = response.content.decode()
    # KPI tiles at the end of 30 Nov: Acme's $32.00 a month is left after Solo cancelled its yearly plan.
    assert "MRR (USD)" in page and "$32.00" in page and "ARR $384.00 · ARPU $32.00" in page
    assert "1 subscriptions · 1 paying customers" in page
    assert "50.00%" in page and "1 cancelled of 2 active at the start" in page
    assert "subscriptions $32.00 + purchases $49.00" in page
    # Charts load their data from the API, with the period and granularity.
    assert 'data-src="/api/v1/analytics/mrr/?start=2026-11-01&amp;end=2026-11-30&amp;granularity=week"' in page
    assert "vendor/chart.umd.min.js" in page and "analytics/dashboard.js" in page
    # Tables, with CSV links.
    assert "Cohort retention" in page and 'class="heat heat-10">100.00%' in page
    assert "cold-email" in page and "Top customers by lifetime value" in page
    assert page.count(">CSV</a>") == 8  # 4 charts, cohorts, customers, content, content before conversion
    # Nothing inline: the Content-Security-Policy allows only our static files.
    assert "style=" not in page.split('<div id="content-main"', 1)[1]


def test_a_wrong_period_shows_the_error_and_the_default_year(staff_client):
    response = staff_client.get(f"{URL}?start=2026-11-30&end=2026-11-01")
    assert response.status_code == 200
    assert "The end is before the start." in response.content.decode()


def test_staff_without_the_permission_are_refused_and_others_sent_to_log_in(client):
    from accounts.tests.factories import PASSWORD, UserFactory
    from accounts.tests.totp import login_with_totp, totp_activate

    staff = UserFactory(is_staff=True)
    login_with_totp(client, user=staff, password=PASSWORD, secret=totp_activate(staff), next_url="/admin/")
    assert client.get(URL).status_code == 403
    index = client.get("/admin/").content.decode()
    assert "Business metrics" not in index
    client.logout()
    anonymous = client.get(URL)
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/admin/login/?next=/admin/analytics/")


def test_the_admin_index_leads_with_the_dashboard_and_folds_the_stripe_mirror(staff_client):
    page = staff_client.get("/admin/").content.decode()
    dashboards, accounts, mirror = (
        page.index("Dashboards"),
        page.index('class="app-accounts'),
        page.index("Stripe mirror (dj-stripe)"),
    )
    assert dashboards < accounts < mirror
    assert page.index('class="app-djstripe') > mirror  # inside the folded <details>
    assert '<a href="/admin/analytics/">Business metrics</a>' in page


def test_the_demo_gives_every_chart_a_year_of_data_and_runs_once():
    lines = seed_demo()
    assert lines[0].startswith("60 demo customers")
    rows = SubscriptionHistory.objects.count()
    assert seed_demo() == lines
    assert SubscriptionHistory.objects.count() == rows

    today = timezone.now().date()
    year = ReportPeriod(first_day=today - timedelta(days=364), last_day=today)
    mrr = mrr_series(period=year, granularity="month")
    assert {p.currency for p in mrr} == {"usd", "eur"}
    assert all(p.mrr > 0 for p in mrr[-2:])
    assert sum(p.net for p in revenue_trend(period=year, granularity="month")) > 0
    growth = growth_series(period=year, granularity="month")
    assert sum(p.new for p in growth) > 20 and sum(p.cancelled for p in growth) > 0
    assert len(cohort_retention(first_month=year.first_day, last_month=today)) >= 10
    assert [s.count > 0 for s in conversion_funnel(period=year)] == [True, True, True, True]
    assert len(top_content(period=year)) > 0
