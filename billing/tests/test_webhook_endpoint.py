"""The Stripe webhook endpoint as Stripe and our receiver see it: signatures, replays, odd payloads.

Events are real ones recorded by the sandbox; the tests sign them with the endpoint's
secret (or fail to) and post them to the endpoint like Stripe does.
"""

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import stripe
from django.contrib import admin as django_admin
from django.test import RequestFactory
from django.utils import timezone
from djstripe.models import Event, Subscription, WebhookEndpoint, WebhookEventTrigger

from billing.models import BillingEmail, SubscriptionState
from billing.services import webhook_intake
from billing.services.webhook_intake import webhook_trigger_process, webhook_triggers_prune, webhook_triggers_redrive
from billing.tests.checkout_helpers import subscribe
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign(body: str, secret: str, *, at: int | None = None) -> str:
    at = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


@pytest.fixture
def endpoint(billing_site):
    return WebhookEndpoint.objects.get()


@pytest.fixture
def subscription_created(billing_site, endpoint):
    """A paid subscription whose events the sandbox recorded; our test endpoint has not seen them."""
    membership = MembershipFactory()
    endpoint_url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
    assert subscribe(membership) == 303
    # Delivered to nobody: these tests post the events themselves.
    stripe.WebhookEndpoint.modify(endpoint.id, disabled=True)
    listed = stripe.Event.list(limit=100).auto_paging_iter()
    event_id = next(e.id for e in listed if e.type == "customer.subscription.created")
    # The event's JSON exactly as the API sends it (the client's objects turn decimals into Decimal).
    return membership, endpoint_url, stripe.Event.retrieve(event_id).last_response.body


def post(client, url, body, signature=None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    return client.post(url, data=body, content_type="application/json", **headers)


def test_missing_or_forged_signature_is_400_and_changes_nothing(client, endpoint, subscription_created):
    membership, url, body = subscription_created
    assert post(client, url, body).status_code == 400
    assert post(client, url, body, sign(body, "whsec_forged")).status_code == 400
    assert not Event.objects.filter(type="customer.subscription.created").exists()
    assert not SubscriptionState.objects.filter(organization=membership.organization, plan="premium").exists()


def test_a_signature_older_than_the_tolerance_is_400(client, endpoint, subscription_created):
    membership, url, body = subscription_created
    stale = sign(body, endpoint.secret, at=int(time.time()) - endpoint.djstripe_tolerance - 60)
    assert post(client, url, body, stale).status_code == 400
    assert not Event.objects.filter(type="customer.subscription.created").exists()


def test_malformed_json_is_400(client, endpoint):
    url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
    body = '{"id": "evt_broken", "type": '
    assert post(client, url, body, sign(body, endpoint.secret)).status_code == 400
    assert not Event.objects.exists()


def test_the_same_event_twice_is_applied_once(client, endpoint, subscription_created):
    membership, url, body = subscription_created
    first = post(client, url, body, sign(body, endpoint.secret))
    second = post(client, url, body, sign(body, endpoint.secret))
    assert (first.status_code, second.status_code) == (200, 200)
    assert Event.objects.filter(type="customer.subscription.created").count() == 1
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1


def test_unknown_event_types_are_accepted_and_ignored(client, endpoint):
    url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
    body = json.dumps(
        {
            "id": "evt_unknown_1",
            "object": "event",
            "type": "plateau.something_new",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": {"id": "thing_1", "object": "thing"}},
        }
    )
    assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    assert WebhookEventTrigger.objects.filter(valid=True).count() == 1
    assert not SubscriptionState.objects.exists()


@pytest.mark.services
def test_the_same_event_delivered_concurrently_is_applied_once(
    require_postgres, live_server, endpoint, subscription_created
):
    membership, url, body = subscription_created
    barrier = threading.Barrier(8)
    statuses = []

    def deliver():
        request = urllib.request.Request(
            live_server.url + url,
            data=body.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, endpoint.secret)},
            method="POST",
        )
        barrier.wait()
        try:
            statuses.append(urllib.request.urlopen(request, timeout=30).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert Event.objects.filter(type="customer.subscription.created").count() == 1
    assert SubscriptionState.objects.get(organization=membership.organization).plan == "premium"
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1


def _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body) -> WebhookEventTrigger:
    """Post the event while dj-stripe cannot re-fetch its object: accepted, stored, processing failed."""
    with monkeypatch.context() as down:
        down.setattr(stripe, "api_base", "http://127.0.0.1:9")
        down.setattr(stripe, "max_network_retries", 0)
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    trigger = WebhookEventTrigger.objects.get()
    assert (trigger.valid, trigger.processed) == (True, False)
    return trigger


def test_a_failed_event_is_kept_with_its_error_and_an_admin_replay_converges(
    client, monkeypatch, endpoint, subscription_created
):
    membership, url, body = subscription_created
    trigger = _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body)
    assert trigger.exception.startswith("Unexpected error communicating with Stripe.")
    assert not Event.objects.filter(type="customer.subscription.created").exists()
    assert not SubscriptionState.objects.filter(organization=membership.organization, plan="premium").exists()

    # Stripe is back; staff use the admin's "Reprocess" action on the failed trigger.
    staff = MembershipFactory(user__is_staff=True, user__is_superuser=True).user
    request = RequestFactory().post("/admin/djstripe/webhookeventtrigger/")
    request.user = staff
    trigger_admin = django_admin.site._registry[WebhookEventTrigger]
    trigger_admin.reprocess(request, WebhookEventTrigger.objects.filter(pk=trigger.pk))
    trigger.refresh_from_db()
    assert (trigger.processed, trigger.exception) == (True, "")
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1


def test_a_trigger_left_unprocessed_is_redriven_until_it_converges(client, monkeypatch, endpoint, subscription_created):
    membership, url, body = subscription_created
    trigger = _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body)

    # Within the grace given to the job queued at acceptance, nothing is queued twice.
    assert webhook_triggers_redrive() == 0
    # Beat's sweep, a few minutes later, queues it again and it is processed.
    assert webhook_triggers_redrive(now=timezone.now() + timedelta(minutes=5)) == 1

    trigger.refresh_from_db()
    assert (trigger.processed, trigger.exception) == (True, "")
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert webhook_triggers_redrive(now=timezone.now() + timedelta(minutes=5)) == 0


@pytest.mark.services
def test_a_delivery_is_answered_once_stored_and_a_real_worker_processes_it(
    billing_site, endpoint, subscription_created, celery_worker
):
    membership, url, body = subscription_created
    request = urllib.request.Request(
        billing_site_url(endpoint) + url,
        data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, endpoint.secret)},
        method="POST",
    )
    assert urllib.request.urlopen(request, timeout=30).status == 200
    trigger = WebhookEventTrigger.objects.get()
    assert trigger.valid

    # The worker process, not the web request, syncs the subscription and grants the plan.
    deadline = time.monotonic() + 30
    while not SubscriptionState.objects.filter(organization=membership.organization, plan="premium").exists():
        assert time.monotonic() < deadline, "the worker did not process the webhook in 30 s"
        time.sleep(0.05)
    trigger.refresh_from_db()
    assert (trigger.processed, trigger.exception) == (True, "")
    assert Event.objects.filter(type="customer.subscription.created").count() == 1


def billing_site_url(endpoint) -> str:
    return endpoint.url.split("/stripe/webhook/")[0]


def test_a_delivery_for_an_unknown_endpoint_is_404_and_not_stored(client, endpoint, subscription_created):
    _membership, _url, body = subscription_created
    unknown = "/stripe/webhook/00000000-0000-4000-8000-000000000000/"
    assert post(client, unknown, body, sign(body, endpoint.secret)).status_code == 404
    assert not WebhookEventTrigger.objects.exists()


def test_an_event_superseded_in_the_queue_skips_dj_stripes_sync_and_the_latest_converges(
    client, monkeypatch, endpoint, subscription_created
):
    """A worker catching up on a backlog: two events about one subscription, the earlier one superseded."""
    membership, url, created_body = subscription_created
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    stripe.Subscription.modify(subscription_id, metadata={"note": "later"})
    events = stripe.Event.list(limit=10).auto_paging_iter()
    updated = next(e for e in events if e.type == "customer.subscription.updated")
    updated_body = stripe.Event.retrieve(updated.id).last_response.body
    queued = []  # the broker, with no worker consuming yet
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for body in (created_body, updated_body):
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    first, second = queued

    assert webhook_trigger_process(trigger_id=first) is True
    # Stored once and marked processed, but dj-stripe did not fetch and sync the subscription:
    # the later trigger will.
    assert Event.objects.filter(type="customer.subscription.created").count() == 1
    assert WebhookEventTrigger.objects.get(pk=first).processed
    assert not Subscription.objects.filter(id=subscription_id).exists()

    assert webhook_trigger_process(trigger_id=second) is True
    assert Subscription.objects.get(id=subscription_id).metadata["note"] == "later"
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1
    # The latest one is never skipped, whatever order the worker takes them in.
    assert webhook_intake._superseded(WebhookEventTrigger.objects.get(pk=second)) is False


def test_settled_deliveries_are_pruned_after_the_retention_and_unsettled_ones_kept(
    client, monkeypatch, endpoint, subscription_created
):
    _membership, url, body = subscription_created
    stuck = _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body)
    assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200  # Stripe's retry, processed
    assert post(client, url, body, sign(body, "whsec_forged")).status_code == 400  # never valid
    assert WebhookEventTrigger.objects.count() == 3

    assert webhook_triggers_prune(now=timezone.now() + timedelta(days=29)) == 0
    assert webhook_triggers_prune(now=timezone.now() + timedelta(days=31)) == 2

    # The valid one that never got processed waits for a person; dj-stripe's record of the event stays.
    assert list(WebhookEventTrigger.objects.values_list("pk", flat=True)) == [stuck.pk]
    assert Event.objects.filter(type="customer.subscription.created").count() == 1


def test_our_part_failing_rolls_back_the_whole_trigger_and_the_redrive_converges(
    client, monkeypatch, endpoint, subscription_created
):
    membership, url, body = subscription_created

    def broken(**kwargs):
        raise RuntimeError("our database hiccuped")

    with monkeypatch.context() as failing:
        failing.setattr(webhook_intake, "stripe_event_apply", broken)
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200

    trigger = WebhookEventTrigger.objects.get()
    # Neither half is kept: dj-stripe's stored event is rolled back with ours.
    assert (trigger.processed, trigger.exception) == (False, "our database hiccuped")
    assert not Event.objects.filter(type="customer.subscription.created").exists()

    assert webhook_triggers_redrive(now=timezone.now() + timedelta(minutes=5)) == 1
    trigger.refresh_from_db()
    assert (trigger.processed, trigger.exception) == (True, "")
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1
