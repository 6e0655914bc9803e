"""The one override of dj-stripe (billing/djstripe_owner.py): the owner account the intake already knows.

Processing a delivery must stamp the Event and every object synced with it with the
same account dj-stripe's own lookup would give, without asking the database for the
key's account again; outside the intake, or for another key, dj-stripe decides.
"""

import json

import pytest
import stripe
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djstripe.models import Account, APIKey, Event, Subscription
from djstripe.models.base import StripeModel

from billing.djstripe_owner import owner_account_known
from billing.services import webhook_intake
from billing.services.webhook_intake import webhook_trigger_process
from billing.tests.test_webhook_endpoint import post, sign

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_processed_delivery_and_its_synced_objects_belong_to_the_endpoints_account(
    client, monkeypatch, endpoint, subscription_created
):
    membership, url, created_body = subscription_created
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    assert post(client, url, created_body, sign(created_body, endpoint.secret)).status_code == 200
    account = endpoint.djstripe_owner_account
    assert APIKey.objects.filter(djstripe_owner_account=account, type="secret").exists()

    with CaptureQueriesContext(connection) as queries:
        assert webhook_trigger_process(trigger_id=queued[0]) is True

    event_id = json.loads(created_body)["id"]
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    assert Event.objects.get(id=event_id).djstripe_owner_account == account
    assert Subscription.objects.get(id=subscription_id).djstripe_owner_account == account
    # dj-stripe did not look the key's account up, for the event or the objects it synced, nor
    # the account's default key: the key was read once, with the trigger.
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if s.startswith('SELECT "djstripe_account"')]
    key_reads = [s for s in statements if "djstripe_apikey" in s]
    assert len(key_reads) == 1 and key_reads[0].startswith('SELECT "djstripe_webhookeventtrigger"')


def test_outside_the_block_and_for_another_key_djstripe_looks_the_account_up(stripe_sandbox):
    platform = Account.get_or_retrieve_for_api_key(stripe.api_key)
    stranger = object()  # never a real answer: only returned when the override applies
    with owner_account_known(api_key=stripe.api_key, account=stranger):
        assert StripeModel._find_owner_account({"object": "customer"}, api_key=stripe.api_key) is stranger
        # Another key, or a Connect account named by the event: dj-stripe's own lookup.
        other = "sk_test_" + "another" * 4
        APIKey.objects.create(secret=other, type="secret", livemode=False, djstripe_owner_account=platform)
        assert StripeModel._find_owner_account({"object": "customer"}, api_key=other) == platform
        connect_event = {"object": "event", "account": platform.id}
        assert StripeModel._find_owner_account(connect_event, api_key=stripe.api_key) == platform
    assert StripeModel._find_owner_account({"object": "customer"}, api_key=stripe.api_key) == platform


def test_the_accounts_default_key_is_the_known_one_only_for_that_account_and_mode(stripe_sandbox):
    platform = Account.get_or_retrieve_for_api_key(stripe.api_key)
    assert platform.get_default_api_key(livemode=False) == stripe.api_key
    known = "sk_test_" + "known" * 5
    with owner_account_known(api_key=known, account=platform, key_livemode=False):
        assert platform.get_default_api_key() == known
        assert platform.get_default_api_key(livemode=False) == known
        # Another mode, or another account: dj-stripe reads its keys.
        assert platform.get_default_api_key(livemode=True) != known
        other = Account.objects.create(id="acct_other")
        assert other.get_default_api_key(livemode=False) != known
    assert platform.get_default_api_key(livemode=False) == stripe.api_key


def test_a_synced_delivery_takes_few_statements_under_the_objects_lock(
    client, monkeypatch, endpoint, subscription_created
):
    """The second delivery about an object just fetched: no savepoints, no key lookups, one state lock."""
    membership, url, created_body = subscription_created
    subscription_id = json.loads(created_body)["data"]["object"]["id"]
    stripe.Subscription.modify(subscription_id, metadata={"note": "later"})
    updated = next(e for e in stripe.Event.list(limit=10).auto_paging_iter() if e.type.endswith(".updated"))
    updated_body = stripe.Event.retrieve(updated.id).last_response.body
    queued = []
    monkeypatch.setattr(webhook_intake, "_queue", queued.append)
    for body in (created_body, updated_body):
        assert post(client, url, body, sign(body, endpoint.secret)).status_code == 200
    assert webhook_trigger_process(trigger_id=queued[1]) is True

    with CaptureQueriesContext(connection) as queries:
        assert webhook_trigger_process(trigger_id=queued[0]) is True

    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert len([s for s in statements if 'FROM "billing_subscriptionstate"' in s]) == 1
    assert len(statements) <= 15, statements
    assert Event.objects.filter(id=json.loads(created_body)["id"]).exists()
