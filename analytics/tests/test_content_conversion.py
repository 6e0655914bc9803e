"""Content before conversion: the selector against a naive recomputation from the raw rows of
random histories; the API (staff, JSON and CSV, in the schema) and the dashboard's table."""

import csv
import io
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.tests.factories import MembershipFactory, UserFactory
from analytics.models import Event
from analytics.periods import ReportPeriod
from analytics.selectors import content_before_conversion
from analytics.tests.test_api import client_for, metrics_viewer
from billing.services.revenue import subscription_payment_record
from billing.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/content-conversion/"
FROM = datetime(2026, 9, 1, tzinfo=UTC)
PERIOD = ReportPeriod(first_day=date(2026, 9, 15), last_day=date(2026, 10, 10))
CONTENT = [("content:lesson_detail", f"lesson-{n}") for n in range(5)] + [
    ("content:article_detail", "article-1"),
    ("content:article_detail", "article-2"),
    ("marketplace:detail", "template-1"),
    ("marketplace:detail", "template-2"),
]
OTHER_PAGES = [("content:quiz_detail", "quiz-1"), ("marketplace:index", ""), ("content:lesson_detail", "")]


def _at(rng) -> datetime:
    # Whole hours over seven weeks: views of one instant happen, and ties go by event id.
    return FROM + timedelta(hours=rng.randint(0, 49 * 24))


def random_history(seed: int) -> dict:
    """Organizations with members, visitors (some tied to members), page views and payments."""
    rng = random.Random(seed)
    plan = {"members": {}, "payments": {}}
    users, visitors = [], [f"stranger-{seed}-{n}" for n in range(4)]
    for n in range(18):
        org = OrganizationFactory(name=f"Org {seed}-{n}")
        people = [MembershipFactory(organization=org, user=UserFactory()).user_id for _ in range(rng.randint(0, 3))]
        if people and rng.random() < 0.2:  # someone in two organizations
            MembershipFactory(organization=OrganizationFactory(name=f"Other {seed}-{n}"), user_id=people[0])
        plan["members"][org.pk] = people
        users += people
        for k in range(rng.randint(0, 3)):
            paid_at = _at(rng)
            if rng.random() < 0.5:
                subscription_payment_record(
                    invoice={
                        "id": f"in_{seed}_{n}_{k}",
                        "amount_paid": 2000,
                        "currency": "usd",
                        "status_transitions": {"paid_at": int(paid_at.timestamp())},
                        "parent": {"subscription_details": {"subscription": f"sub_{seed}_{n}"}},
                    },
                    organization=org,
                )
            else:
                PurchaseFactory(organization=org, paid_at=paid_at, item_id=f"q{seed}-{n}-{k}")
            plan["payments"].setdefault(org.pk, []).append(paid_at)
        # Neither counts as a payment: a free purchase, and one never paid.
        PurchaseFactory(organization=org, amount=0, paid_at=_at(rng), item_id=f"free{seed}-{n}")
        PurchaseFactory(organization=org, status="expired", paid_at=None, item_id=f"exp{seed}-{n}")
    events = []
    for user in users:
        # The browsers each member was seen in: signed up from one, signed in from others.
        for m in range(rng.randint(0, 2)):
            visitor = f"v{seed}-{user}-{m}"
            visitors.append(visitor)
            name = "signup" if m == 0 else "page_view"
            events.append(Event(name=name, occurred_at=_at(rng), user_id=user, anonymous_id=visitor))
    for _ in range(900):
        kind = rng.random()
        item_type, item_id = rng.choice(CONTENT) if rng.random() < 0.85 else rng.choice(OTHER_PAGES)
        user = rng.choice(users) if users and kind < 0.5 else None
        visitor = rng.choice(visitors) if kind >= 0.3 else ""
        name = "page_view" if rng.random() < 0.9 else rng.choice(["click", "search"])
        events.append(
            Event(
                name=name,
                occurred_at=_at(rng),
                user_id=user,
                anonymous_id=visitor,
                item_type=item_type,
                item_id=item_id,
            )
        )
    for event in events:
        event.uuid = uuid.uuid4()
    Event.objects.bulk_create(events)
    return plan


def naive(plan: dict, period: ReportPeriod) -> tuple[int, int, dict]:
    """Straight from the definition, over every raw row."""
    rows = list(Event.objects.values("id", "name", "occurred_at", "user_id", "anonymous_id", "item_type", "item_id"))
    customers = attributed = 0
    items: dict = {}
    for org, paid in plan["payments"].items():
        first = min(paid)
        if not period.start <= first < period.end:
            continue
        customers += 1
        people = set(plan["members"][org])
        browsers = {r["anonymous_id"] for r in rows if r["user_id"] in people and r["anonymous_id"]}
        views = sorted(
            (r["occurred_at"], r["id"], (r["item_type"], r["item_id"]))
            for r in rows
            if r["name"] == "page_view"
            and (r["item_type"], r["item_id"]) in CONTENT
            and first - timedelta(days=7) <= r["occurred_at"] < first
            and (r["user_id"] in people or (r["user_id"] is None and r["anonymous_id"] in browsers))
        )
        if not views:
            continue
        attributed += 1
        for n, (_, _, item) in enumerate(views):
            line = items.setdefault(item, {"customers": set(), "views": 0, "first_touch": 0, "last_touch": 0})
            line["customers"].add(org)
            line["views"] += 1
            line["first_touch"] += n == 0
            line["last_touch"] += n == len(views) - 1
    return customers, attributed, {k: {**v, "customers": len(v["customers"])} for k, v in items.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_content_before_conversion_matches_a_naive_recomputation(seed):
    plan = random_history(seed)
    customers, attributed, expected = naive(plan, PERIOD)
    report = content_before_conversion(period=PERIOD, limit=100)
    assert (report.customers, report.attributed) == (customers, attributed)
    assert attributed > 3  # the history is not trivially empty
    got = {
        (i.item_type, i.item_id): {
            "customers": i.customers,
            "views": i.views,
            "first_touch": i.first_touch,
            "last_touch": i.last_touch,
        }
        for i in report.items
    }
    assert got == expected
    order = [(-v["customers"], -v["last_touch"], -v["first_touch"], -v["views"], k) for k, v in got.items()]
    assert [(i.item_type, i.item_id) for i in report.items] == [key[-1] for key in sorted(order)]
    assert len(content_before_conversion(period=PERIOD, limit=3).items) == min(3, len(expected))


def test_the_api_for_staff_as_json_and_csv_and_in_the_schema(client):
    org = OrganizationFactory()
    member = MembershipFactory(organization=org)
    PurchaseFactory(organization=org, paid_at=datetime(2026, 10, 1, 12, tzinfo=UTC))
    Event.objects.bulk_create(
        [
            Event(uuid=f"{n:032x}", name="page_view", occurred_at=at, user_id=member.user_id, item_type=t, item_id=i)
            for n, (at, t, i) in enumerate(
                [
                    (datetime(2026, 9, 24, 11, tzinfo=UTC), "content:lesson_detail", "l1"),  # 7 days + 1 h before
                    (datetime(2026, 9, 24, 13, tzinfo=UTC), "content:article_detail", "a1"),
                    (datetime(2026, 9, 30, 9, tzinfo=UTC), "marketplace:detail", "t1"),
                    (datetime(2026, 10, 1, 12, tzinfo=UTC), "content:lesson_detail", "l2"),  # the moment it paid
                ]
            )
        ]
    )
    staff = client_for(metrics_viewer())
    response = staff.get(URL, {"start": "2026-09-01", "end": "2026-10-31"})
    assert response.status_code == 200
    assert response.json() == {
        "start": "2026-09-01",
        "end": "2026-10-31",
        "customers": 1,
        "attributed": 1,
        "items": [
            {
                "item_type": "marketplace:detail",
                "item_id": "t1",
                "customers": 1,
                "views": 1,
                "first_touch": 0,
                "last_touch": 1,
            },
            {
                "item_type": "content:article_detail",
                "item_id": "a1",
                "customers": 1,
                "views": 1,
                "first_touch": 1,
                "last_touch": 0,
            },
        ],
    }
    exported = staff.get(URL, {"start": "2026-09-01", "end": "2026-10-31", "format": "csv"})
    assert exported["Content-Disposition"] == 'attachment; filename="content-conversion.csv"'
    table = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["item_id"], r["customers"], r["first_touch"], r["last_touch"]) for r in table] == [
        ("t1", "1", "0", "1"),
        ("a1", "1", "1", "0"),
    ]
    assert client_for(UserFactory(is_staff=True)).get(URL).status_code == 403
    assert staff.get(URL, {"limit": 0}).status_code == 400
    assert "/api/v1/analytics/content-conversion/" in client.get("/api/schema/?format=json").json()["paths"]


def test_the_dashboard_shows_the_table_with_its_csv(staff_client):
    org = OrganizationFactory()
    member = MembershipFactory(organization=org)
    PurchaseFactory(organization=org, paid_at=datetime(2026, 10, 1, 12, tzinfo=UTC))
    Event.objects.create(
        uuid=uuid.uuid4(),
        name="page_view",
        occurred_at=datetime(2026, 9, 30, 9, tzinfo=UTC),
        user_id=member.user_id,
        item_type="marketplace:detail",
        item_id="meeting-notes",
    )
    page = staff_client.get("/admin/analytics/", {"start": "2026-09-01", "end": "2026-10-31"}).content.decode()
    assert "Content before a first payment" in page
    assert "1 of 1 customers who first paid in the period viewed content in the 7 days before." in page
    assert "<td>marketplace:detail</td><td>meeting-notes</td>" in page
    assert "/api/v1/analytics/content-conversion/?start=2026-09-01&amp;end=2026-10-31" in page
