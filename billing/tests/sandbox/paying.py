"""A paying subscriber in the sandbox, as several sandbox tests start."""

import stripe


def paying_subscription(*, email: str, name: str, amount: int, interval: str = "month", **subscription_params):
    """A new customer paying `amount` per `interval` for a new product `name` with the 4242 card."""
    price = stripe.Price.create(
        product_data={"name": name}, currency="usd", unit_amount=amount, recurring={"interval": interval}
    )
    customer = stripe.Customer.create(email=email)
    payment_method = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
    subscription = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": price.id}],
        default_payment_method=payment_method.id,
        **subscription_params,
    )
    return customer, subscription
