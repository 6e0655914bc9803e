"""Contract: subscriptions, invoices, prorations, trials, coupons and renewals behave as Stripe
documents them. Time is driven by Stripe test clocks, so every amount and date is exact."""

from datetime import UTC, datetime

import pytest
import stripe

DAY = 86_400
JAN_1 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
FEB_1 = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
MAR_1 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())


def _monthly(amount: int, name: str = "Pro", **extra):
    return stripe.Price.create(
        product_data={"name": name}, currency="usd", unit_amount=amount, recurring={"interval": "month"}, **extra
    )


def _customer_on_clock(card: str = "pm_card_visa"):
    clock = stripe.test_helpers.TestClock.create(frozen_time=JAN_1)
    customer = stripe.Customer.create(email="clock@example.com", test_clock=clock.id)
    pm = stripe.PaymentMethod.attach(card, customer=customer.id)
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": pm.id})
    return clock, customer


def _advance(clock, moment: int):
    return stripe.test_helpers.TestClock.advance(clock.id, frozen_time=moment)


def _invoices(subscription_id: str):
    return stripe.Invoice.list(subscription=subscription_id).data


def test_a_subscription_bills_its_first_calendar_month_at_once(stripe_sandbox):
    clock, customer = _customer_on_clock()
    price = _monthly(1000)

    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": price.id, "quantity": 3}], expand=["latest_invoice"]
    )

    item = subscription["items"].data[0]
    assert subscription.status == "active"
    assert (item.current_period_start, item.current_period_end) == (JAN_1, FEB_1)
    invoice = subscription.latest_invoice
    assert (invoice.status, invoice.billing_reason, invoice.amount_due, invoice.amount_paid) == (
        "paid",
        "subscription_create",
        3000,
        3000,
    )
    assert invoice.number.endswith("-0001")
    assert invoice.hosted_invoice_url.startswith(stripe_sandbox.url)
    assert [line.amount for line in invoice.lines.data] == [3000]
    assert invoice.lines.data[0].period.to_dict() == {"end": FEB_1, "start": JAN_1}


def test_renewals_invoice_each_period_on_the_clock(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])

    _advance(clock, MAR_1 + 60)

    renewed = stripe.Subscription.retrieve(subscription.id)
    item = renewed["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (
        MAR_1,
        int(datetime(2026, 4, 1, tzinfo=UTC).timestamp()),
    )
    invoices = _invoices(subscription.id)
    assert [(i.billing_reason, i.status, i.amount_paid, i.created) for i in invoices] == [
        ("subscription_cycle", "paid", 1000, MAR_1),
        ("subscription_cycle", "paid", 1000, FEB_1),
        ("subscription_create", "paid", 1000, JAN_1),
    ]
    assert stripe.test_helpers.TestClock.retrieve(clock.id).status == "ready"
    paid_events = stripe.Event.list(type="invoice.paid", limit=100).data
    assert sorted(event.created for event in paid_events) == [JAN_1, FEB_1, MAR_1]


def test_an_upgrade_mid_period_is_prorated_to_the_second_and_billed_at_renewal(stripe_sandbox):
    clock, customer = _customer_on_clock()
    basic, premium = _monthly(1000, "Basic"), _monthly(3000, "Premium")
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": basic.id}])
    _advance(clock, JAN_1 + 15 * DAY)  # 16 of January's 31 days remain

    item_id = subscription["items"].data[0].id
    stripe.Subscription.modify(subscription.id, items=[{"id": item_id, "price": premium.id}])

    pending = stripe.InvoiceItem.list(customer=customer.id, pending=True).data
    assert sorted((i.amount, i.proration) for i in pending) == [(-516, True), (1548, True)]
    _advance(clock, FEB_1)
    renewal = _invoices(subscription.id)[0]
    assert sorted(line.amount for line in renewal.lines.data) == [-516, 1548, 3000]
    assert (renewal.total, renewal.amount_paid, renewal.status) == (4032, 4032, "paid")


def test_always_invoice_bills_the_proration_immediately(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])
    _advance(clock, JAN_1 + 15 * DAY)

    item = subscription["items"].data[0]
    stripe.Subscription.modify(
        subscription.id, items=[{"id": item.id, "quantity": 2}], proration_behavior="always_invoice"
    )

    latest = _invoices(subscription.id)[0]
    assert (latest.billing_reason, latest.status, latest.amount_paid) == ("subscription_update", "paid", 516)
    assert stripe.InvoiceItem.list(customer=customer.id, pending=True).data == []


def test_an_interval_change_restarts_the_cycle_and_bills_the_new_price_less_the_unused_time(stripe_sandbox):
    clock, customer = _customer_on_clock()
    monthly = _monthly(1000)
    yearly = stripe.Price.create(
        product=monthly.product, currency="usd", unit_amount=10000, recurring={"interval": "year"}
    )
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": monthly.id}])
    _advance(clock, JAN_1 + 15 * DAY)  # 16 of January's 31 days unused: 516 back
    item_id = subscription["items"].data[0].id
    change = {"items": [{"id": item_id, "price": yearly.id}]}

    preview = stripe.Invoice.create_preview(subscription=subscription.id, subscription_details=change)
    stripe.Subscription.modify(subscription.id, **change)

    billed = _invoices(subscription.id)[0]
    assert sorted(line.amount for line in billed.lines.data) == [-516, 10000]
    assert (billed.billing_reason, billed.total, billed.status) == ("subscription_update", 9484, "paid")
    assert sorted(line.amount for line in preview.lines.data) == [-516, 10000]
    assert preview.total == 9484
    item = stripe.Subscription.retrieve(subscription.id)["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (JAN_1 + 15 * DAY, JAN_1 + 15 * DAY + 365 * DAY)


def test_no_proration_changes_nothing_until_renewal(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])
    _advance(clock, JAN_1 + 10 * DAY)

    item = subscription["items"].data[0]
    stripe.Subscription.modify(subscription.id, items=[{"id": item.id, "quantity": 5}], proration_behavior="none")

    assert stripe.InvoiceItem.list(customer=customer.id, pending=True).data == []
    _advance(clock, FEB_1)
    assert _invoices(subscription.id)[0].amount_paid == 5000


def test_cancel_at_period_end_keeps_access_until_the_period_ends_and_can_be_undone(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])

    pending = stripe.Subscription.modify(subscription.id, cancel_at_period_end=True)
    assert (pending.status, pending.cancel_at, pending.canceled_at) == ("active", FEB_1, JAN_1)
    resumed = stripe.Subscription.modify(subscription.id, cancel_at_period_end=False)
    assert (resumed.cancel_at_period_end, resumed.cancel_at, resumed.canceled_at) == (False, None, None)

    stripe.Subscription.modify(subscription.id, cancel_at_period_end=True)
    _advance(clock, FEB_1 + 60)

    ended = stripe.Subscription.retrieve(subscription.id)
    assert (ended.status, ended.ended_at, ended.cancellation_details.reason) == (
        "canceled",
        FEB_1,
        "cancellation_requested",
    )
    assert len(_invoices(subscription.id)) == 1
    assert "customer.subscription.deleted" in [e.type for e in stripe.Event.list(limit=100).data]


def test_cancel_now_ends_the_subscription_immediately(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])
    _advance(clock, JAN_1 + 3 * DAY)

    canceled = stripe.Subscription.cancel(subscription.id)

    assert (canceled.status, canceled.canceled_at, canceled.ended_at) == ("canceled", JAN_1 + 3 * DAY, JAN_1 + 3 * DAY)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.cancel(subscription.id)
    assert stripe.Subscription.list(customer=customer.id).data == []
    assert [s.id for s in stripe.Subscription.list(customer=customer.id, status="canceled").data] == [subscription.id]


def test_a_prorated_cancel_credits_the_unused_time_on_an_invoice_now(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])
    _advance(clock, JAN_1 + 3 * DAY)

    assert stripe.Subscription.cancel(subscription.id, prorate=True, invoice_now=True).status == "canceled"

    # 28 of January's 31 days unused: 1000 * 28 / 31 = 903.2, rounded to 903.
    first, credit = sorted(stripe.Invoice.list(customer=customer.id).data, key=lambda invoice: invoice.created)
    assert (first.billing_reason, first.amount_paid) == ("subscription_create", 1000)
    assert (credit.billing_reason, credit.status, credit.total, credit.amount_due) == (
        "subscription_update",
        "paid",
        -903,
        0,
    )
    assert [(line.amount, line.description) for line in credit.lines.data] == [
        (-903, "Unused time on 1 × Pro after 04 Jan 2026")
    ]
    assert stripe.Customer.retrieve(customer.id).balance == -903


def test_a_trial_costs_nothing_then_bills_when_it_ends(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], trial_period_days=14, expand=["latest_invoice"]
    )

    assert (subscription.status, subscription.trial_start, subscription.trial_end) == (
        "trialing",
        JAN_1,
        JAN_1 + 14 * DAY,
    )
    assert (subscription.latest_invoice.amount_due, subscription.latest_invoice.status) == (0, "paid")
    _advance(clock, JAN_1 + 14 * DAY)

    active = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert active.status == "active"
    assert (active.latest_invoice.amount_paid, active.latest_invoice.billing_reason) == (1000, "subscription_cycle")
    assert active["items"].data[0].current_period_start == JAN_1 + 14 * DAY
    types = [e.type for e in stripe.Event.list(limit=100).data]
    assert "customer.subscription.trial_will_end" in types


def test_a_failing_card_makes_the_renewal_past_due_and_retries_end_in_cancellation(stripe_sandbox):
    clock, customer = _customer_on_clock(card="pm_card_chargeCustomerFail")
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], trial_period_days=7
    )
    trial_end = JAN_1 + 7 * DAY

    _advance(clock, trial_end)
    past_due = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert past_due.status == "past_due"
    assert (past_due.latest_invoice.status, past_due.latest_invoice.attempt_count) == ("open", 1)
    assert past_due.latest_invoice.next_payment_attempt == trial_end + 3 * DAY

    _advance(clock, trial_end + 7 * DAY)
    ended = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert (ended.status, ended.cancellation_details.reason) == ("canceled", "payment_failed")
    assert (ended.latest_invoice.status, ended.latest_invoice.attempt_count) == ("open", 4)
    assert ended.latest_invoice.next_payment_attempt is None
    failures = [e for e in stripe.Event.list(limit=100, type="invoice.payment_failed").data]
    assert len(failures) == 4


def test_paying_the_open_invoice_with_a_working_card_reactivates_the_subscription(stripe_sandbox):
    clock, customer = _customer_on_clock(card="pm_card_chargeCustomerFail")
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], trial_period_days=7
    )
    _advance(clock, JAN_1 + 7 * DAY)
    invoice_id = stripe.Subscription.retrieve(subscription.id).latest_invoice

    good = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
    paid = stripe.Invoice.pay(invoice_id, payment_method=good.id)

    assert (paid.status, paid.amount_paid) == ("paid", 1000)
    assert stripe.Subscription.retrieve(subscription.id).status == "active"


def test_without_a_payment_method_the_subscription_cannot_start(stripe_sandbox):
    customer = stripe.Customer.create(email="nocard@example.com")

    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])
    assert stripe.Subscription.list(customer=customer.id, status="all").data == []

    incomplete = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], payment_behavior="default_incomplete"
    )
    assert incomplete.status == "incomplete"


def test_an_incomplete_subscription_expires_after_23_hours(stripe_sandbox):
    clock = stripe.test_helpers.TestClock.create(frozen_time=JAN_1)
    customer = stripe.Customer.create(email="late@example.com", test_clock=clock.id)
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], payment_behavior="default_incomplete"
    )

    _advance(clock, JAN_1 + DAY)

    expired = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert expired.status == "incomplete_expired"
    assert expired.latest_invoice.status == "void"


def test_a_once_coupon_discounts_only_the_first_invoice(stripe_sandbox):
    clock, customer = _customer_on_clock()
    coupon = stripe.Coupon.create(percent_off=25, duration="once")
    promo = stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id}, code="WELCOME")

    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1999).id}], discounts=[{"promotion_code": promo.id}]
    )
    _advance(clock, FEB_1)

    first, renewal = reversed(_invoices(subscription.id))
    assert (first.subtotal, first.total_discount_amounts[0].amount, first.total) == (1999, 500, 1499)
    assert (renewal.subtotal, renewal.total) == (1999, 1999)
    assert stripe.Coupon.retrieve(coupon.id).times_redeemed == 1
    assert stripe.PromotionCode.retrieve(promo.id).times_redeemed == 1


def test_an_amount_off_coupon_never_discounts_below_zero(stripe_sandbox):
    _, customer = _customer_on_clock()
    coupon = stripe.Coupon.create(amount_off=5000, currency="usd", duration="forever")

    subscription = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": _monthly(1000).id}],
        discounts=[{"coupon": coupon.id}],
        expand=["latest_invoice"],
    )

    assert (subscription.latest_invoice.total, subscription.latest_invoice.amount_paid) == (0, 0)
    assert subscription.latest_invoice.status == "paid"


def test_lookup_keys_are_unique_unless_transferred(stripe_sandbox):
    old = _monthly(1000, lookup_key="pro_monthly")

    with pytest.raises(stripe.InvalidRequestError) as taken:
        _monthly(1200, lookup_key="pro_monthly")
    assert taken.value.param == "lookup_key"
    new = _monthly(1200, lookup_key="pro_monthly", transfer_lookup_key=True)

    assert [p.id for p in stripe.Price.list(lookup_keys=["pro_monthly"]).data] == [new.id]
    assert stripe.Price.retrieve(old.id).lookup_key is None


def test_manual_invoices_move_from_draft_to_paid_void_or_uncollectible(stripe_sandbox):
    _, customer = _customer_on_clock()
    stripe.InvoiceItem.create(customer=customer.id, amount=2500, currency="usd", description="Consulting")
    draft = stripe.Invoice.create(customer=customer.id, pending_invoice_items_behavior="include")
    assert (draft.status, draft.total, draft.number) == ("draft", 2500, None)

    paid = stripe.Invoice.pay(draft.id)
    assert (paid.status, paid.amount_paid, paid.status_transitions.paid_at) == ("paid", 2500, JAN_1)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.void_invoice(paid.id)
    assert stripe.Invoice.retrieve(paid.id).status == "paid"

    stripe.InvoiceItem.create(customer=customer.id, amount=100, currency="usd")
    second = stripe.Invoice.finalize_invoice(
        stripe.Invoice.create(customer=customer.id, pending_invoice_items_behavior="include").id, auto_advance=False
    )
    voided = stripe.Invoice.void_invoice(second.id)
    assert (voided.status, voided.status_transitions.voided_at, voided.next_payment_attempt) == ("void", JAN_1, None)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.pay(second.id)
    assert stripe.Invoice.retrieve(second.id).status == "void"

    stripe.InvoiceItem.create(customer=customer.id, amount=100, currency="usd")
    third = stripe.Invoice.finalize_invoice(
        stripe.Invoice.create(customer=customer.id, pending_invoice_items_behavior="include").id
    )
    uncollectible = stripe.Invoice.mark_uncollectible(third.id)
    assert (
        uncollectible.status,
        uncollectible.status_transitions.marked_uncollectible_at,
        uncollectible.next_payment_attempt,
    ) == ("uncollectible", JAN_1, None)
    assert stripe.Invoice.void_invoice(third.id).status == "void"


def test_a_test_clock_only_moves_forward(stripe_sandbox):
    clock = stripe.test_helpers.TestClock.create(frozen_time=JAN_1)

    with pytest.raises(stripe.InvalidRequestError):
        stripe.test_helpers.TestClock.advance(clock.id, frozen_time=JAN_1 - 1)
    assert stripe.test_helpers.TestClock.retrieve(clock.id).frozen_time == JAN_1


def test_subscription_items_can_be_added_changed_and_removed_with_prorations(stripe_sandbox):
    clock, customer = _customer_on_clock()
    seats, addon = _monthly(1000, "Seats"), _monthly(3100, "Add-on")
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": seats.id}])
    _advance(clock, JAN_1 + 15 * DAY)

    added = stripe.SubscriptionItem.create(subscription=subscription.id, price=addon.id)
    changed = stripe.SubscriptionItem.modify(added.id, quantity=2)
    listed = stripe.SubscriptionItem.list(subscription=subscription.id)

    assert (added.current_period_start, added.current_period_end) == (JAN_1, FEB_1)
    assert changed.quantity == 2
    assert sorted(item.price.id for item in listed.data) == sorted([seats.id, addon.id])
    deleted = stripe.SubscriptionItem.delete(added.id)
    assert deleted.deleted is True
    assert [item.price.id for item in stripe.Subscription.retrieve(subscription.id)["items"].data] == [seats.id]
    # 16 of January's 31 days remain each time: +1600 when the add-on arrives; the quantity change
    # credits the unused 1600 and charges 3200 for two; removing it credits those 3200.
    pending = sorted(i.amount for i in stripe.InvoiceItem.list(customer=customer.id, pending=True).data)
    assert pending == [-3200, -1600, 1600, 3200]


def test_ending_a_trial_now_bills_immediately(stripe_sandbox):
    clock, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(
        customer=customer.id, items=[{"price": _monthly(1000).id}], trial_period_days=30
    )
    _advance(clock, JAN_1 + 2 * DAY)

    ended = stripe.Subscription.modify(subscription.id, trial_end="now", expand=["latest_invoice"])

    assert (ended.status, ended.trial_end) == ("active", JAN_1 + 2 * DAY)
    assert (ended.latest_invoice.amount_paid, ended.latest_invoice.billing_reason) == (1000, "subscription_update")
    assert ended["items"].data[0].current_period_start == JAN_1 + 2 * DAY


def test_deleting_a_customer_cancels_their_subscriptions(stripe_sandbox):
    _, customer = _customer_on_clock()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": _monthly(1000).id}])

    gone = stripe.Customer.delete(customer.id)

    assert gone.deleted is True
    assert stripe.Customer.retrieve(customer.id).deleted is True
    assert stripe.Subscription.retrieve(subscription.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Customer.modify(customer.id, email="back@example.com")


def test_an_invoice_preview_shows_the_next_invoice_and_changes_nothing(stripe_sandbox):
    clock, customer = _customer_on_clock()
    basic, premium = _monthly(1000, "Basic"), _monthly(3000, "Premium")
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"price": basic.id}])
    _advance(clock, JAN_1 + 15 * DAY)
    events_before = len(stripe.Event.list(limit=100).data)
    item_id = subscription["items"].data[0].id

    upgrade = stripe.Invoice.create_preview(
        subscription=subscription.id, subscription_details={"items": [{"id": item_id, "price": premium.id}]}
    )
    renewal = stripe.Invoice.create_preview(subscription=subscription.id)

    assert upgrade.id.startswith("upcoming_in_") and upgrade.status == "draft"
    assert sorted(line.amount for line in upgrade.lines.data) == [-516, 1548, 3000]
    assert (upgrade.total, upgrade.created) == (4032, FEB_1)
    assert (renewal.total, renewal.billing_reason) == (1000, "upcoming")
    assert stripe.InvoiceItem.list(customer=customer.id, pending=True).data == []
    assert stripe.Subscription.retrieve(subscription.id)["items"].data[0].price.id == basic.id
    assert len(stripe.Invoice.list(customer=customer.id).data) == 1
    assert len(stripe.Event.list(limit=100).data) == events_before
