"""On Redis, a cached check-access costs one round trip besides the request's counters, and stays current."""

import json

import pytest
from redis import Redis
from redis.client import Pipeline

from billing.tests.api.test_features_api import CHECK, TRACK, key_client
from common import events
from common.events import buffer

pytestmark = [pytest.mark.services]


class RedisTraffic:
    """Every command sent on its own, and every pipeline (its commands), while it records."""

    def __init__(self, monkeypatch):
        self.commands, self.pipelines = [], []
        real_command, real_execute = Redis.execute_command, Pipeline.execute
        traffic = self

        def command(self, *args, **options):
            traffic.commands.append(args[0])
            return real_command(self, *args, **options)

        def execute(self, *args, **options):
            traffic.pipelines.append([c[0][0] for c in self.command_stack])
            return real_execute(self, *args, **options)

        monkeypatch.setattr(Redis, "execute_command", command)
        monkeypatch.setattr(Pipeline, "execute", execute)


@pytest.mark.django_db(transaction=True)  # the event follows the commit, as in production
@pytest.mark.parametrize("feature", ["premium_article", "ai_chat"])  # per organization; per member (named)
def test_a_cached_answer_comes_with_the_api_key_and_its_event_with_the_request_counters(
    require_redis, premium, monkeypatch, feature
):
    client = key_client(premium)
    body = {"customer": premium.organization.pk, "feature": feature}
    if feature == "ai_chat":
        body["user"] = premium.user_id
    first = client.post(CHECK, body, format="json")  # computes and caches the answer
    assert first.status_code == 200
    waiting = buffer().waiting()

    # Not the analytics flush that a push may start (eager under test): only what the request sends.
    monkeypatch.setattr(events, "_flusher", None)
    traffic = RedisTraffic(monkeypatch)
    second = client.post(CHECK, body, format="json")
    monkeypatch.undo()

    assert second.json() == first.json()
    # The key, its rate limits and the cached answer with its generations: one script call.
    assert traffic.commands == ["EVALSHA"]
    # The check's feature_usage event and the request's counters: one pipeline.
    assert len(traffic.pipelines) == 1 and traffic.pipelines[0][0] == "RPUSH"
    assert buffer().waiting() == waiting + 1
    event = json.loads(buffer().redis.lindex(buffer().key, -1))
    assert (event["name"], event["properties"]["action"], event["item_id"]) == ("feature_usage", "check", feature)

    # Read with the authentication or not, the answer is never older than the last use.
    tracked = client.post(TRACK, {**body, "quantity": 2, "idempotency_key": "rt-1"}, format="json")
    assert tracked.json()["used"] == first.json()["used"] + 2
    assert client.post(CHECK, body, format="json").json()["used"] == tracked.json()["used"]


@pytest.mark.django_db
def test_odd_bodies_are_answered_as_before(require_redis, premium):
    client = key_client(premium)
    bad_json = client.post(CHECK, b"{not json", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "malformed_request"
    as_text = client.post(CHECK, {"customer": str(premium.organization.pk), "feature": "premium_article"},
                          format="json")
    assert as_text.status_code == 200  # the serializer converts "7", as it always did
    unknown = client.post(CHECK, {"customer": premium.organization.pk, "feature": "nope"}, format="json")
    assert unknown.status_code == 400 and [e["field"] for e in unknown.json()["errors"]] == ["feature"]


@pytest.mark.django_db(transaction=True)
def test_a_use_reads_its_cached_grant_with_the_api_key(require_redis, premium, monkeypatch):
    client = key_client(premium)
    body = {"customer": premium.organization.pk, "feature": "premium_article"}
    first = client.post(TRACK, {**body, "idempotency_key": "g-1"}, format="json")  # caches the grant
    assert first.status_code == 200

    monkeypatch.setattr(events, "_flusher", None)
    traffic = RedisTraffic(monkeypatch)
    second = client.post(TRACK, {**body, "idempotency_key": "g-2"}, format="json")
    monkeypatch.undo()

    assert second.json()["used"] == first.json()["used"] + 1
    # The key, its limits and the grant in one script call; then the counter's generation is bumped.
    assert traffic.commands == ["EVALSHA", "SET"]
    assert len(traffic.pipelines) == 1 and traffic.pipelines[0][0] == "RPUSH"
