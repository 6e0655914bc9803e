"""The dashboard in headless Chromium: every chart drawn from the API, at desktop width and at 390 px."""

import pytest

from analytics.tests.test_api_series import business  # noqa: F401 — the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("mrr", "revenue", "growth", "funnel")


def _open(page, live_server, staff_client, query: str) -> None:
    session = staff_client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/analytics/?{query}")
    for chart in CHARTS:
        page.wait_for_selector(f'canvas[data-chart="{chart}"][data-drawn]')


def test_every_chart_is_drawn_and_the_page_fits_a_phone(page, live_server, staff_client, business):  # noqa: F811
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _open(page, live_server, staff_client, "start=2026-10-01&end=2026-11-30&granularity=week")
    drawn = {c: page.get_attribute(f'canvas[data-chart="{c}"]', "data-drawn") for c in CHARTS}
    assert drawn == dict.fromkeys(CHARTS, "true")
    assert errors == []
    assert page.locator(".kpi-value").first.inner_text() == "$32.00"
    assert page.locator("table.cohorts tbody tr").count() == 1  # November: Acme and Solo
    page.shot("dashboard")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    for chart in CHARTS:
        page.wait_for_selector(f'canvas[data-chart="{chart}"][data-drawn="true"]')
    overflow = page.evaluate("document.querySelector('#content-main').scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.shot("dashboard-390px")
