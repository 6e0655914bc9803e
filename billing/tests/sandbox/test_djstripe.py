"""dj-stripe works against the sandbox unchanged: model sync, endpoint registration, signed webhooks."""

import pytest
import stripe
from django.apps import apps
from django.core.management import CommandError, call_command
from djstripe import models as djstripe_models

from billing import gateway
from billing.tests.sandbox.paying import paying_subscription
from billing.webhooks import webhook_endpoint_register


def _subscription_in_sandbox():
    return paying_subscription(email="sync@example.com", name="Team", amount=4900)


@pytest.mark.django_db
def test_djstripe_sync_models_mirrors_the_sandbox(stripe_sandbox):
    customer, subscription = _subscription_in_sandbox()

    # Every model dj-stripe knows but two it cannot sync from any Stripe with stripe 15:
    # AccountV2 builds its own client that ignores STRIPE_API_HOST (always api.stripe.com), and
    # Event stores the client's `request` object, no longer a dict, as its text in a 50-character
    # column (PostgreSQL refuses it). Events reach dj-stripe through signed webhooks instead.
    # --fail-on-error turns any failed list or sync into an error.
    unsyncable = {"AccountV2", "Event"}
    models = [
        model.__name__ for model in apps.get_app_config("djstripe").get_models() if model.__name__ not in unsyncable
    ]
    call_command("djstripe_sync_models", *models, "--fail-on-error")

    assert djstripe_models.Customer.objects.get(id=customer.id).email == "sync@example.com"
    mirrored = djstripe_models.Subscription.objects.get(id=subscription.id)
    assert mirrored.status == "active"
    invoice = djstripe_models.Invoice.objects.get(id=subscription.latest_invoice)
    assert (invoice.status, invoice.stripe_data["amount_paid"]) == ("paid", 4900)
    assert djstripe_models.Charge.objects.get(customer_id=customer.id).stripe_data["amount"] == 4900


def test_entitlement_features_attach_to_products_like_stripe(stripe_sandbox):
    product = stripe.Product.create(name="Premium")
    feature = stripe.entitlements.Feature.create(name="Premium articles", lookup_key="premium_article")
    attached = stripe.Product.create_feature(product.id, entitlement_feature=feature.id)

    assert (attached.object, attached.entitlement_feature.lookup_key) == ("product_feature", "premium_article")
    with pytest.raises(stripe.InvalidRequestError, match="already exists"):
        stripe.entitlements.Feature.create(name="Again", lookup_key="premium_article")
    with pytest.raises(stripe.InvalidRequestError, match="already attached"):
        stripe.Product.create_feature(product.id, entitlement_feature=feature.id)
    # The attachment always shows the feature as it is now.
    stripe.entitlements.Feature.modify(feature.id, name="Articles")
    listed = stripe.Product.list_features(product.id)
    assert [(f.id, f.entitlement_feature.name) for f in listed.data] == [(attached.id, "Articles")]
    assert [f.id for f in stripe.entitlements.Feature.list(lookup_key="premium_article").data] == [feature.id]

    gone = stripe.Product.delete_feature(product.id, attached.id)
    assert (gone.id, gone.deleted) == (attached.id, True)
    assert stripe.Product.list_features(product.id).data == []
    with pytest.raises(stripe.InvalidRequestError, match="No such product feature"):
        stripe.Product.retrieve_feature(product.id, attached.id)


@pytest.mark.django_db
def test_djstripe_mirrors_a_products_features_from_the_sandbox(stripe_sandbox):
    product = stripe.Product.create(name="Premium")
    feature = stripe.entitlements.Feature.create(name="Premium articles", lookup_key="premium_article")
    attached = stripe.Product.create_feature(product.id, entitlement_feature=feature.id)

    mirrored = djstripe_models.Product.sync_from_stripe_data(stripe.Product.retrieve(product.id))
    assert [(f.id, f.entitlement_feature.lookup_key) for f in mirrored.features.all()] == [
        (attached.id, "premium_article")
    ]
    stripe.Product.delete_feature(product.id, attached.id)
    djstripe_models.Product.sync_from_stripe_data(stripe.Product.retrieve(product.id))
    assert not mirrored.features.exists()


@pytest.mark.django_db
def test_webhook_setup_registers_once_and_replaces_stale_registrations(stripe_sandbox):
    first, created = webhook_endpoint_register(base_url="http://127.0.0.1:8000")
    again, created_again = webhook_endpoint_register(base_url="http://127.0.0.1:8000")

    assert (created, created_again, again.id) == (True, False, first.id)
    assert first.url.startswith("http://127.0.0.1:8000/stripe/webhook/")
    assert first.secret.startswith("whsec_")
    assert [endpoint.id for endpoint in gateway.webhook_endpoint_list()] == [first.id]

    # Someone deleted it in Stripe: the next run registers a fresh one and drops the stale row.
    gateway.webhook_endpoint_delete(endpoint_id=first.id)
    replaced, created_third = webhook_endpoint_register(base_url="http://127.0.0.1:8000")

    assert created_third is True and replaced.id != first.id
    assert [endpoint.id for endpoint in gateway.webhook_endpoint_list()] == [replaced.id]
    assert list(djstripe_models.WebhookEndpoint.objects.values_list("id", flat=True)) == [replaced.id]


@pytest.mark.django_db
def test_the_webhook_setup_command_is_idempotent(stripe_sandbox, capsys):
    call_command("stripe_webhooks_setup", "--base-url", "http://127.0.0.1:8000")
    call_command("stripe_webhooks_setup", "--base-url", "http://127.0.0.1:8000")

    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("Registered webhook endpoint we_")
    assert second == first.replace("Registered", "Already registered")


@pytest.mark.django_db
def test_the_webhook_setup_command_reports_an_unreachable_api(stripe_sandbox, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    with pytest.raises(CommandError, match="Stripe API unreachable"):
        call_command("stripe_webhooks_setup", "--wait", "0")
