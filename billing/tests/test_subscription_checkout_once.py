"""One open subscription Checkout per organization: two tabs cannot make two paid subscriptions.

Found by a hostile review: two concurrent checkouts for one organization, both paid,
gave two active Premium subscriptions ($64 billed a month).
"""

import threading

import pytest
import stripe
from django.core.management import call_command
from django.db import connection
from django.test import Client

from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory

CARD = "4242424242424242"


def start(membership, lookup_key="premium_monthly") -> str:
    client = Client()
    client.force_login(membership.user)
    response = client.post("/billing/checkout/", {"lookup_key": lookup_key})
    assert response.status_code == 302
    return response["Location"]


def subscription_sessions() -> list:
    return [s for s in stripe.checkout.Session.list(limit=100).auto_paging_iter() if s.mode == "subscription"]


@pytest.mark.django_db
def test_a_second_start_for_the_same_price_answers_the_open_checkout(stripe_sandbox):
    call_command("billing_setup")
    member = MembershipFactory()
    assert start(member) == start(member)
    assert len(subscription_sessions()) == 1


@pytest.mark.django_db
def test_starting_another_price_closes_the_first_checkout_so_it_cannot_be_paid(stripe_sandbox):
    call_command("billing_setup")
    member = MembershipFactory()
    monthly = start(member)
    yearly = start(member, "premium_yearly")
    assert yearly != monthly
    assert pay_hosted_checkout(monthly, card=CARD, email=member.user.email) != 303
    assert pay_hosted_checkout(yearly, card=CARD, email=member.user.email) == 303
    assert len(list(stripe.Subscription.list(limit=10).auto_paging_iter())) == 1


@pytest.mark.django_db
def test_after_paying_but_before_the_webhook_a_new_start_is_refused(stripe_sandbox):
    call_command("billing_setup")
    member = MembershipFactory()
    assert pay_hosted_checkout(start(member), card=CARD, email=member.user.email) == 303
    client = Client()
    client.force_login(member.user)
    again = client.post("/billing/checkout/", {"lookup_key": "premium_monthly"}, follow=True)
    assert "Your subscription is being set up" in again.content.decode()
    assert len(subscription_sessions()) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_open_one_checkout(require_postgres, stripe_sandbox):
    call_command("billing_setup")
    member = MembershipFactory()
    barrier = threading.Barrier(2)
    urls = []

    def run():
        try:
            barrier.wait()
            urls.append(start(member))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(urls) == 2 and urls[0] == urls[1]
    assert len(subscription_sessions()) == 1
