"""Emails a customer sees: the welcome at sign-up (page and API, once), the payment and purchase receipts."""

import pytest
from allauth.account.signals import user_signed_up
from django.test import RequestFactory
from djstripe.models import Customer, Event
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import BillingEmail, PurchaseStatus
from billing.services.purchases import purchase_complete_from_checkout
from billing.services.webhooks import stripe_event_apply
from billing.tests.factories import OrganizationFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-Passw0rd"


def page_sign_up(client, email="ada@example.com", name="Ada Lovelace"):
    form = {"email": email, "password1": PASSWORD, "password2": PASSWORD, "name": name}
    return client.post("/accounts/signup/", form)


def welcome_emails(mailoutbox):
    return [m for m in mailoutbox if m.subject == "Welcome to Plateau"]


def test_the_sign_up_page_sends_one_welcome_email_to_the_new_address(
    client, mailoutbox, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert page_sign_up(client).status_code == 302

    [welcome] = welcome_emails(mailoutbox)
    assert welcome.to == ["ada@example.com"]
    assert welcome.body.startswith(
        'Hello Ada Lovelace,\n\nWelcome to Plateau! Your workspace "Ada\'s workspace" is ready.'
    )
    assert f"Start learning: {settings.SITE_URL}/learn/" in welcome.body
    html, mimetype = welcome.alternatives[0]
    assert mimetype == "text/html" and "Ada&#x27;s workspace" in html  # escaped in HTML, plain in the text part
    # Next to the verification email allauth sends, not instead of it.
    assert [m.subject for m in mailoutbox if m is not welcome] == ["[Plateau] Please Confirm Your Email Address"]
    email = BillingEmail.objects.get(template="welcome")
    assert (email.recipient, email.status, email.organization.name) == ("ada@example.com", "sent", "Ada's workspace")


def test_a_double_submit_or_a_repeated_signal_sends_the_welcome_once(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page_sign_up(client)
        page_sign_up(client)  # the same form posted twice: the address is taken now, no new account
        user = User.objects.get(email="ada@example.com")
        request = RequestFactory().post("/accounts/signup/")
        user_signed_up.send(sender=User, request=request, user=user)  # a duplicate signal

    assert User.objects.filter(email="ada@example.com").count() == 1
    assert len(welcome_emails(mailoutbox)) == 1
    assert BillingEmail.objects.filter(template="welcome").count() == 1


def test_the_api_sign_up_sends_the_same_welcome(mailoutbox, django_capture_on_commit_callbacks):
    body = {"email": "api@example.com", "password": PASSWORD, "name": "Grace Hopper"}
    with django_capture_on_commit_callbacks(execute=True):
        assert APIClient().post("/api/v1/auth/signup/", body, format="json").status_code == 202

    [welcome] = welcome_emails(mailoutbox)
    assert welcome.to == ["api@example.com"]
    assert welcome.body.startswith('Hello Grace Hopper,\n\nWelcome to Plateau! Your workspace "Grace\'s workspace"')


def test_the_payment_receipt_shows_the_amount_paid_in_dollars_to_the_organization(
    mailoutbox, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(name="Acme", email="billing@acme.example")
    Customer.objects.create(id=f"cus_{org.pk}", subscriber=org, stripe_data={"id": f"cus_{org.pk}"})
    invoice = {
        "id": "in_receipt",
        "object": "invoice",
        "customer": f"cus_{org.pk}",
        "amount_paid": 32000,
        "currency": "usd",
        "hosted_invoice_url": "https://invoice.example/in_receipt",
    }
    event = Event.objects.create(id="evt_paid", type="invoice.paid", data={"object": invoice}, stripe_data={})
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_apply(event_id=event.id)

    [receipt] = mailoutbox
    assert receipt.to == ["billing@acme.example"]
    assert receipt.subject == "Your Plateau receipt"
    assert "We received your payment of $320.00. Invoice: https://invoice.example/in_receipt" in receipt.body
    assert "$320.00" in receipt.alternatives[0][0]


def test_the_purchase_receipt_names_the_item_the_amount_and_the_discount(
    mailoutbox, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(name="Acme", email="buyer@acme.example")
    purchase = PurchaseFactory(
        organization=org,
        item_name="Advanced agents quiz",
        list_amount=5000,
        discount_amount=1000,
        amount=4000,
        discount_rule="quiz_discount",
        status=PurchaseStatus.PENDING,
        paid_at=None,
        stripe_checkout_session_id="cs_receipt",
    )
    session = {
        "id": "cs_receipt",
        "metadata": {"purchase_id": str(purchase.pk)},
        "payment_status": "paid",
        "amount_total": 4000,
        "payment_intent": "pi_receipt",
    }
    with django_capture_on_commit_callbacks(execute=True):
        purchase_complete_from_checkout(session=session)
        purchase_complete_from_checkout(session=session)  # settled once: no second receipt

    [receipt] = mailoutbox
    assert receipt.to == ["buyer@acme.example"]
    assert receipt.subject == "Your Plateau purchase"
    assert "Thank you for buying Advanced agents quiz: $40.00 (discount $10.00)." in receipt.body
    assert "<strong>$40.00</strong>" in receipt.alternatives[0][0]
