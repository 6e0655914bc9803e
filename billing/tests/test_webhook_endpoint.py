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
from django.db import connection
from django.utils import timezone
from djstripe import signals
from djstripe.models import Event, Subscription, WebhookEventTrigger
from rest_framework.test import APIClient

from billing.models import BillingEmail, SubscriptionState, WebhookRejection
from billing.services import webhook_intake
from billing.services.webhook_intake import webhook_trigger_process, webhook_triggers_prune, webhook_triggers_redrive
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign(body: str, secret: str, *, at: int | None = None) -> str:
    at = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


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
    staff_client, monkeypatch, endpoint, subscription_created
):
    client = staff_client  # the deliveries need no session; the same browser is then staff's in the admin
    membership, url, body = subscription_created
    trigger = _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body)
    assert trigger.exception.startswith("Unexpected error communicating with Stripe.")
    assert not Event.objects.filter(type="customer.subscription.created").exists()
    assert not SubscriptionState.objects.filter(organization=membership.organization, plan="premium").exists()

    # Stripe is back; staff tick the failed trigger in the admin's list and run "Process again".
    changelist = "/admin/djstripe/webhookeventtrigger/"
    assert staff_client.get(changelist).status_code == 200
    page = staff_client.post(changelist, {"action": "reprocess", "_selected_action": [trigger.pk]}, follow=True)
    assert [str(m) for m in page.context["messages"]] == ["Processed 1 trigger(s); 0 failed again."]
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


def _later_update_of(created_body: str) -> str:
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    stripe.Subscription.modify(subscription_id, metadata={"note": "later"})
    events = stripe.Event.list(limit=10).auto_paging_iter()
    updated = next(e for e in events if e.type == "customer.subscription.updated")
    return stripe.Event.retrieve(updated.id).last_response.body


@pytest.mark.parametrize("order", ["first_then_second", "second_then_first"])
def test_the_same_event_delivered_twice_while_the_worker_is_paused_is_applied(
    client, monkeypatch, endpoint, subscription_created, order
):
    """Both deliveries wait in the queue; whichever runs first applies the event, the other is a no-op.

    Before: the earlier delivery was treated as superseded by the later one (same object)
    and stored the Event without syncing, and the later one found the Event stored and was
    dropped as a duplicate: a paid subscription never reached the organization.
    """
    membership, url, body = subscription_created
    queued = []  # the broker, with no worker consuming yet
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for _ in range(2):
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    if order == "second_then_first":
        queued.reverse()

    assert [webhook_trigger_process(trigger_id=pk) for pk in queued] == [True, True]

    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert Event.objects.filter(type="customer.subscription.created").count() == 1
    assert BillingEmail.objects.filter(template="subscription_started").count() == 1
    assert list(WebhookEventTrigger.objects.values_list("processed", flat=True)) == [True, True]


def test_a_cancellation_delivered_twice_revokes_the_plan(client, monkeypatch, endpoint, subscription_created):
    membership, url, created_body = subscription_created
    assert post(client, url, created_body, sign(created_body, endpoint.secret)).status_code == 200
    assert SubscriptionState.objects.get(organization=membership.organization).plan == "premium"
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    stripe.Subscription.cancel(subscription_id)
    deleted = next(e for e in stripe.Event.list(limit=10).auto_paging_iter() if e.type.endswith(".deleted"))
    deleted_body = stripe.Event.retrieve(deleted.id).last_response.body
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for _ in range(2):
        assert post(client, url, deleted_body, sign(deleted_body, endpoint.secret)).status_code == 200

    for pk in queued:
        webhook_trigger_process(trigger_id=pk)

    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "canceled")
    assert not membership.organization.entitlements.filter(feature="free_quiz").exists()
    assert BillingEmail.objects.filter(template="subscription_cancelled").count() == 1


class _CacheDown:
    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    set = get


def test_with_the_cache_down_a_delivery_fetches_its_object_and_is_processed_cleanly(
    client, monkeypatch, endpoint, subscription_created
):
    """The fetch note lives in the cache: without it nothing is skipped, and failing to write
    it after the commit leaves the trigger processed with no error recorded."""
    membership, url, created_body = subscription_created
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    assert post(client, url, created_body, sign(created_body, endpoint.secret)).status_code == 200
    monkeypatch.setattr(webhook_intake, "cache", _CacheDown())

    assert webhook_trigger_process(trigger_id=queued[0]) is True

    trigger = WebhookEventTrigger.objects.get(pk=queued[0])
    assert (trigger.processed, trigger.exception) == (True, "")
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")


def test_an_older_event_after_a_newer_ones_sync_needs_no_fetch_and_lands_in_the_same_state(
    client, monkeypatch, endpoint, subscription_created
):
    """The one shortcut kept: the object was fetched after this delivery was accepted, so that fetch saw it."""
    membership, url, created_body = subscription_created
    updated_body = _later_update_of(created_body)
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for body in (created_body, updated_body):
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    older, newer = queued
    assert webhook_trigger_process(trigger_id=newer) is True

    # Stripe is unreachable now: the older delivery is processed without fetching anything.
    with monkeypatch.context() as down:
        down.setattr(stripe, "api_base", "http://127.0.0.1:9")
        down.setattr(stripe, "max_network_retries", 0)
        assert webhook_trigger_process(trigger_id=older) is True

    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    assert Subscription.objects.get(id=subscription_id).metadata["note"] == "later"
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert Event.objects.filter(type__startswith="customer.subscription.").count() == 2


@pytest.mark.services
def test_deliveries_about_an_object_already_fetched_are_processed_side_by_side(
    require_postgres, client, monkeypatch, endpoint, subscription_created
):
    """Only fetches of one object wait for each other: two deliveries whose fetch is done do not.

    Before, every delivery about one subscription waited for the previous one's whole
    transaction, so a burst about one object was processed one event at a time.
    """
    membership, url, created_body = subscription_created
    first_update = _later_update_of(created_body)
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    stripe.Subscription.modify(subscription_id, metadata={"note": "latest"})
    latest = next(e for e in stripe.Event.list(limit=10).auto_paging_iter() if e.type.endswith(".updated"))
    latest_body = stripe.Event.retrieve(latest.id).last_response.body
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for body in (created_body, first_update, latest_body):
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    created, updated, newest = queued
    assert webhook_trigger_process(trigger_id=newest) is True  # fetches the subscription as it is now

    inside, release = threading.Event(), threading.Event()

    def hold_the_first(sender, instance, **kwargs):
        if instance.pk == created:
            inside.set()
            release.wait(timeout=30)

    signals.webhook_pre_process.connect(hold_the_first)
    results = {}

    def process(trigger_id):
        try:
            results[trigger_id] = webhook_trigger_process(trigger_id=trigger_id)
        finally:
            connection.close()

    first = threading.Thread(target=process, args=(created,))
    try:
        first.start()
        assert inside.wait(timeout=30)
        # The first one's transaction is open (its event lock held); the second goes through meanwhile.
        second = threading.Thread(target=process, args=(updated,))
        second.start()
        second.join(timeout=20)
        assert not second.is_alive() and results == {updated: True}
    finally:
        release.set()
        first.join(timeout=30)
        signals.webhook_pre_process.disconnect(hold_the_first)
    assert results == {updated: True, created: True}
    assert WebhookEventTrigger.objects.filter(pk__in=queued, processed=True).count() == 3
    assert Event.objects.filter(type__startswith="customer.subscription.").count() == 3
    state = SubscriptionState.objects.get(organization=membership.organization)
    assert (state.plan, state.status) == ("premium", "active")
    assert Subscription.objects.get(id=subscription_id).metadata["note"] == "latest"


def test_a_delivery_accepted_before_nothing_was_fetched_is_never_skipped(
    client, monkeypatch, endpoint, subscription_created
):
    """The newer delivery, processed second, was accepted before the older one's fetch? No: after. It fetches."""
    membership, url, created_body = subscription_created
    updated_body = _later_update_of(created_body)
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    assert post(client, url, created_body, sign(created_body, endpoint.secret)).status_code == 200
    assert webhook_trigger_process(trigger_id=queued[0]) is True
    # Accepted after that fetch: it must fetch again, so with Stripe down it fails and is kept for the redrive.
    assert post(client, url, updated_body, sign(updated_body, endpoint.secret)).status_code == 200
    with monkeypatch.context() as down:
        down.setattr(stripe, "api_base", "http://127.0.0.1:9")
        down.setattr(stripe, "max_network_retries", 0)
        with pytest.raises(stripe.APIConnectionError):
            webhook_trigger_process(trigger_id=queued[1])
    assert WebhookEventTrigger.objects.get(pk=queued[1]).processed is False
    assert webhook_trigger_process(trigger_id=queued[1]) is True
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    assert Subscription.objects.get(id=subscription_id).metadata["note"] == "later"


def test_settled_deliveries_are_pruned_after_the_retention_and_unsettled_ones_kept(
    client, monkeypatch, endpoint, subscription_created
):
    _membership, url, body = subscription_created
    stuck = _accepted_while_stripe_is_unreachable(client, monkeypatch, endpoint, url, body)
    assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200  # Stripe's retry, processed
    assert post(client, url, body, sign(body, "whsec_forged")).status_code == 400  # refused: counted, not stored
    assert WebhookEventTrigger.objects.count() == 2
    assert WebhookRejection.objects.get().count == 1

    assert webhook_triggers_prune(now=timezone.now() + timedelta(days=29)) == 0
    assert webhook_triggers_prune(now=timezone.now() + timedelta(days=31)) == 1
    assert not WebhookRejection.objects.exists()

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


def test_a_timestamp_from_the_future_is_refused(client, endpoint, subscription_created):
    membership, url, body = subscription_created
    ahead = sign(body, endpoint.secret, at=int(time.time()) + 400)
    assert post(client, url, body, ahead).status_code == 400
    assert not WebhookEventTrigger.objects.exists()
    assert WebhookRejection.objects.get().reason == "timestamp_outside_tolerance"
    assert not SubscriptionState.objects.filter(organization=membership.organization, plan="premium").exists()


def test_djstripes_debug_secret_header_is_never_honoured(client, settings, endpoint, subscription_created):
    """Under DEBUG dj-stripe lets `X-Djstripe-Webhook-Secret` replace the endpoint's secret: a forger's own."""
    settings.DEBUG = True
    membership, url, body = subscription_created
    forged = client.post(
        url,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, "whsec_attacker"),
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET="whsec_attacker",
    )
    assert forged.status_code == 400
    assert not WebhookEventTrigger.objects.exists()
    # A genuine delivery carrying the header is accepted, and the header is not kept.
    genuine = client.post(
        url,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, endpoint.secret),
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET="whsec_attacker",
    )
    assert genuine.status_code == 200
    headers = {name.lower() for name in WebhookEventTrigger.objects.get().headers}
    assert "x-djstripe-webhook-secret" not in headers and "stripe-signature" in headers


def test_refused_deliveries_keep_no_body_and_log_one_line_without_traceback(client, caplog, endpoint):
    url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
    noise = "x" * 200_000
    with caplog.at_level("INFO"):
        for _ in range(20):
            assert post(client, url, noise, "t=1,v1=deadbeef").status_code == 400
    assert not WebhookEventTrigger.objects.exists()
    rejection = WebhookRejection.objects.get()
    assert (rejection.count, rejection.bytes, rejection.reason) == (20, 4_000_000, "timestamp_outside_tolerance")
    ours = [r for r in caplog.records if r.name == "billing.services.webhook_intake"]
    assert len(ours) == 20 and {r.levelname for r in ours} == {"WARNING"}
    assert all(r.exc_info is None for r in caplog.records)


def test_a_genuine_event_claiming_an_unpaid_checkout_paid_settles_nothing(client, endpoint, billing_site):
    """The event body is only a pointer: the purchase is settled from the session as Stripe has it."""
    from billing import purchasables
    from billing.models import Purchase
    from billing.purchasables import PricedItem

    membership = MembershipFactory()
    purchasables._resolvers["prompt_template"], previous = (
        lambda item_id: PricedItem("prompt_template", item_id, "Template", 1700, "usd"),
        purchasables._resolvers.get("prompt_template"),
    )
    try:
        api = APIClient()
        api.force_authenticate(membership.user)
        started = api.post("/api/v1/purchases/", {"item_type": "prompt_template", "item_id": "t17"}, format="json")
    finally:
        purchasables._resolvers["prompt_template"] = previous
    purchase = Purchase.objects.get(pk=started.json()["purchase"]["id"])
    stripe.WebhookEndpoint.modify(endpoint.id, disabled=True)
    body = json.dumps(
        {
            "id": "evt_forged_paid",
            "object": "event",
            "type": "checkout.session.completed",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {
                "object": {
                    "id": purchase.stripe_checkout_session_id,
                    "object": "checkout.session",
                    "mode": "payment",
                    "status": "complete",
                    "payment_status": "paid",
                    "amount_total": 0,
                    "metadata": {"purchase_id": str(purchase.pk), "kind": "purchase"},
                }
            },
        }
    )
    # Signed with the real secret: only a leaked secret could do this, and still nothing is settled.
    assert (
        post(client, f"/stripe/webhook/{endpoint.djstripe_uuid}/", body, sign(body, endpoint.secret)).status_code == 200
    )
    purchase.refresh_from_db()
    assert (purchase.status, purchase.amount, purchase.paid_at) == ("pending", 1700, None)
