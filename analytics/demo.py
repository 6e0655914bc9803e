"""Analytics demo data for `manage.py seed_demo`: a year of business history, so every chart has data.

Sixty demo customer organizations ("… (demo)") subscribe over the last year (monthly
and yearly Premium, some in euros, some after a trial, some with a 20% recurring
discount), pay their invoices, sometimes fall past due, get refunded or cancel; they
also buy quizzes, articles and templates. The history goes through billing's own
recording services, as the webhooks write it; none of it is in Stripe (the demo
subscription of Acme AI is, see billing/demo.py). The last 60 days have product events
(page views of the catalogue, signups, checkouts started), rolled up by day.
Deterministic and idempotent: a second run finds the first demo customer and stops.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from analytics.services import events_store, rollups_build
from billing.models import Purchase, PurchaseStatus, SubscriptionRefund
from billing.services.revenue import subscription_history_record, subscription_payment_record
from common.events import event_payload
from content.models import Lesson, Quiz
from marketplace.models import PromptTemplate

CUSTOMERS = 60
EVENT_DAYS = 60
# The same line on every run: seed_demo's output does not change when nothing is added.
SUMMARY = (
    f"{CUSTOMERS} demo customers with a year of subscriptions, payments, refunds and purchases, "
    f"and {EVENT_DAYS} days of product events: /admin/analytics/ (staff)"
)
NAMES = (
    "Northwind",
    "Bluebird",
    "Copperleaf",
    "Driftwood",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Riverbend",
    "Saltmarsh",
    "Tidewater",
)
SUFFIXES = ("Labs", "Studio", "Partners")
PLANS = [
    # (weight, lookup key, unit amount, currency, interval)
    (60, "premium_monthly", 3200, "usd", "month"),
    (20, "premium_yearly", 32000, "usd", "year"),
    (20, "premium_monthly_eur", 2900, "eur", "month"),
]


def _catalogue() -> list[tuple[str, str, str, int]]:
    """(page, purchase item type, slug, price) of what the other apps' demos put on sale."""
    items = [
        ("content:lesson_detail", "article", slug, price)
        for slug, price in Lesson.objects.filter(price_amount__gt=0).values_list("slug", "price_amount")
    ]
    items += [
        ("content:quiz_detail", "quiz", slug, price) for slug, price in Quiz.objects.values_list("slug", "price_amount")
    ]
    items += [
        ("marketplace:detail", "prompt_template", slug, price)
        for slug, price in PromptTemplate.objects.filter(currency="usd").values_list("slug", "price_amount")
    ]
    return items or [("content:quiz_detail", "quiz", f"demo-quiz-{n}", 1900) for n in range(1, 5)]


def _name(n: int) -> str:
    return f"{NAMES[n % len(NAMES)]} {SUFFIXES[n // len(NAMES) % len(SUFFIXES)]} (demo)"


def _subscription(sub_id: str, status: str, plan: tuple, *, start, at, discount: bool) -> dict:
    _, lookup_key, unit, currency, interval = plan
    return {
        "id": sub_id,
        "status": status,
        "start_date": int(start.timestamp()),
        "ended_at": int(at.timestamp()) if status == "canceled" else None,
        "discounts": [{"coupon": {"duration": "forever", "percent_off": 20.0}}] if discount else [],
        "items": {
            "data": [
                {
                    "quantity": 1,
                    "price": {
                        "lookup_key": lookup_key,
                        "unit_amount": unit,
                        "currency": currency,
                        "recurring": {"interval": interval, "interval_count": 1},
                    },
                }
            ]
        },
    }


def _customer_history(rng: random.Random, n: int, organization: Organization, now) -> None:
    plan = rng.choices(PLANS, weights=[p[0] for p in PLANS])[0]
    discount = rng.random() < 0.1
    start = now - timedelta(days=rng.randint(5, 365), hours=rng.randint(0, 23))
    sub_id = f"sub_demo_{n:03d}"
    changes = []
    at = start
    if rng.random() < 0.2:
        changes.append((at, "trialing"))
        at += timedelta(days=14)
        if rng.random() < 0.3:
            changes.append((at, "canceled"))
    if not changes or changes[-1][1] != "canceled":
        changes.append((at, "active"))
        if rng.random() < 0.08:
            due = at + timedelta(days=rng.randint(20, 200))
            changes += [(due, "past_due"), (due + timedelta(days=rng.randint(1, 4)), "active")]
        if rng.random() < 0.3:
            changes.append((changes[-1][0] + timedelta(days=rng.randint(10, 250)), "canceled"))
    changes = [(t, status) for t, status in changes if t < now]
    for t, status in changes:
        subscription_history_record(
            organization=organization,
            subscriptions=[_subscription(sub_id, status, plan, start=start, at=t, discount=discount)],
            now=t,
        )
    # Invoices: one per billing period while active (a yearly plan pays once a year).
    paid_from = next((t for t, status in changes if status == "active"), None)
    if paid_from is None:
        return
    ends = next((t for t, status in changes if status == "canceled" and t > paid_from), now)
    step = timedelta(days=365 if plan[4] == "year" else 30)
    amount = plan[2] - (round(plan[2] * 0.2) if discount else 0)
    paid_at, k = paid_from, 0
    while paid_at < ends:
        subscription_payment_record(
            invoice={
                "id": f"in_demo_{n:03d}_{k}",
                "amount_paid": amount,
                "currency": plan[3],
                "status_transitions": {"paid_at": int(paid_at.timestamp())},
                "parent": {"subscription_details": {"subscription": sub_id}},
                "billing_reason": "subscription_create" if k == 0 else "subscription_cycle",
            },
            organization=organization,
        )
        if rng.random() < 0.04:
            SubscriptionRefund.objects.get_or_create(
                stripe_refund_id=f"re_demo_{n:03d}_{k}",
                defaults={
                    "organization": organization,
                    "stripe_payment_intent_id": f"pi_demo_{n:03d}_{k}",
                    "amount": amount // 2,
                    "currency": plan[3],
                    "refunded_at": paid_at + timedelta(days=2),
                    "reason": "requested_by_customer",
                },
            )
        paid_at += step
        k += 1


def _purchases(rng: random.Random, organizations: list[Organization], catalogue: list, now) -> None:
    rows = []
    for _ in range(180):
        _, item_type, item_id, amount = rng.choice(catalogue)
        paid_at = now - timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 1439))
        refunded = amount if rng.random() < 0.05 else 0
        rows.append(
            Purchase(
                organization=rng.choice(organizations),
                item_type=item_type,
                item_id=item_id,
                item_name=item_id.replace("-", " ").capitalize(),
                list_amount=amount,
                amount=amount,
                currency="usd",
                status=PurchaseStatus.REFUNDED if refunded else PurchaseStatus.PAID,
                refunded_amount=refunded,
                is_demo=True,  # billing's mark for seed purchases: no Stripe payment exists
                created_at=paid_at,
                paid_at=paid_at,
            )
        )
    Purchase.objects.bulk_create(rows)


def _events(rng: random.Random, catalogue: list, now) -> None:
    payloads = []
    today = now.date()
    for back in range(EVENT_DAYS):
        day_start = now - timedelta(days=back, hours=now.hour, minutes=now.minute)
        for _ in range(rng.randint(60, 160)):
            item_type, _, item_id, _ = rng.choice(catalogue)
            visitor = f"demo-visitor-{rng.randint(1, 900)}"
            at = day_start + timedelta(minutes=rng.randint(0, 1439))
            if at > now:
                continue
            payloads.append(
                event_payload(
                    "page_view",
                    anonymous_id=visitor,
                    path=f"/learn/{item_id}/",
                    item_type=item_type,
                    item_id=item_id,
                    at=at,
                )
            )
            if rng.random() < 0.05:
                payloads.append(event_payload("signup", anonymous_id=visitor, at=at + timedelta(minutes=2)))
            if rng.random() < 0.03:
                payloads.append(event_payload("checkout_started", anonymous_id=visitor, at=at + timedelta(minutes=5)))
    events_store(payloads=payloads)
    for back in range(EVENT_DAYS + 1):
        rollups_build(day=today - timedelta(days=back))


@transaction.atomic
def seed_demo() -> list[str]:
    if Organization.objects.filter(slug="demo-customer-000").exists():
        return [SUMMARY]
    rng = random.Random(2024)
    now = timezone.now()
    organizations = []
    for n in range(CUSTOMERS):
        organization = Organization.objects.create(
            name=_name(n), slug=f"demo-customer-{n:03d}", email=f"billing+{n:03d}@demo.plateau.test"
        )
        organizations.append(organization)
        _customer_history(rng, n, organization, now)
    catalogue = _catalogue()
    _purchases(rng, organizations, catalogue, now)
    _events(rng, catalogue, now)
    return [SUMMARY]
