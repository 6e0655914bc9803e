"""Contract: payment intents, charges, refunds and test cards behave as Stripe documents."""

import pytest
import stripe


def _paid_intent(amount: int = 1000):
    customer = stripe.Customer.create(email="pay@example.com")
    return stripe.PaymentIntent.create(
        amount=amount, currency="eur", customer=customer.id, payment_method="pm_card_visa", confirm=True
    )


def test_a_confirmed_payment_intent_succeeds_with_a_captured_charge(stripe_sandbox):
    intent = _paid_intent(1000)

    charge = stripe.Charge.retrieve(intent.latest_charge)
    assert (intent.status, intent.amount_received) == ("succeeded", 1000)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == ("succeeded", True, True, 1000)
    assert (charge.currency, charge.payment_intent, charge.customer) == ("eur", intent.id, intent.customer)
    assert charge.payment_method_details.card.last4 == "4242"


def test_a_declined_card_raises_card_error_and_records_the_failed_attempt(stripe_sandbox):
    intent = stripe.PaymentIntent.create(amount=1000, currency="usd", payment_method="pm_card_chargeDeclined")

    with pytest.raises(stripe.CardError) as declined:
        stripe.PaymentIntent.confirm(intent.id)

    assert declined.value.user_message == "Your card was declined."
    after = stripe.PaymentIntent.retrieve(intent.id)
    assert (after.status, after.amount_received) == ("requires_payment_method", 0)
    assert (after.last_payment_error.code, after.last_payment_error.decline_code) == (
        "card_declined",
        "generic_decline",
    )
    failed = stripe.Charge.retrieve(after.latest_charge)
    assert (failed.status, failed.paid, failed.failure_code) == ("failed", False, "card_declined")


def test_insufficient_funds_has_its_decline_code(stripe_sandbox):
    with pytest.raises(stripe.CardError) as declined:
        stripe.PaymentIntent.create(
            amount=500, currency="usd", payment_method="pm_card_chargeDeclinedInsufficientFunds", confirm=True
        )
    assert (declined.value.error.decline_code, declined.value.user_message) == (
        "insufficient_funds",
        "Your card has insufficient funds.",
    )


def test_partial_then_full_refunds_never_exceed_the_captured_amount(stripe_sandbox):
    intent = _paid_intent(1000)

    partial = stripe.Refund.create(payment_intent=intent.id, amount=300, reason="requested_by_customer")
    charge = stripe.Charge.retrieve(intent.latest_charge)
    assert (partial.amount, partial.status, partial.charge) == (300, "succeeded", charge.id)
    assert (charge.amount_refunded, charge.refunded) == (300, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe.Refund.create(charge=charge.id, amount=701)
    assert too_much.value.param == "amount"
    assert stripe.Charge.retrieve(charge.id).amount_refunded == 300

    rest = stripe.Refund.create(charge=charge.id)
    charge = stripe.Charge.retrieve(charge.id)
    assert rest.amount == 700
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    assert sorted(r.amount for r in charge.refunds.data) == [300, 700]

    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe.Refund.create(charge=charge.id, amount=1)
    assert again.value.code == "charge_already_refunded"
    assert [r.amount for r in stripe.Refund.list(charge=charge.id).data] == [700, 300]


def test_a_card_that_fails_the_attach_check_is_not_attached(stripe_sandbox):
    customer = stripe.Customer.create(email="attach@example.com")

    with pytest.raises(stripe.CardError):
        stripe.PaymentMethod.attach("pm_card_chargeDeclined", customer=customer.id)
    failing_later = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer.id)

    assert [pm.id for pm in stripe.Customer.list_payment_methods(customer.id).data] == [failing_later.id]
    assert failing_later.card.last4 == "0341"


def test_a_succeeded_payment_intent_cannot_be_canceled(stripe_sandbox):
    intent = _paid_intent()

    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.PaymentIntent.cancel(intent.id)
    assert refused.value.code == "payment_intent_unexpected_state"
    assert stripe.PaymentIntent.retrieve(intent.id).status == "succeeded"

    unpaid = stripe.PaymentIntent.create(amount=1000, currency="usd")
    canceled = stripe.PaymentIntent.cancel(unpaid.id, cancellation_reason="abandoned")
    assert (canceled.status, canceled.cancellation_reason, canceled.canceled_at is not None) == (
        "canceled",
        "abandoned",
        True,
    )
