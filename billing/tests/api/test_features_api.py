import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from billing.models import UsageCounter, UsageLedgerEntry
from billing.services.entitlements import entitlements_refresh
from billing.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/features/check-access/"
TRACK = "/api/v1/features/track-usage/"
ENTITLEMENTS = "/api/v1/entitlements/"


def assert_error(response, *, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors", "request_id"}
    assert (body["status"], body["code"]) == (status, code)
    return body


@pytest.fixture
def free():
    membership = MembershipFactory()
    entitlements_refresh(organization=membership.organization)
    return membership


def key_client(membership):
    created = api_key_create(organization=membership.organization, name="sdk", created_by=membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.secret}")
    return client


def user_client(membership):
    client = APIClient()
    client.force_authenticate(user=membership.user)
    return client


def test_check_access_with_an_api_key(premium):
    org = premium.organization
    response = key_client(premium).post(CHECK, {"customer": org.pk, "feature": "premium_article"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "feature": "premium_article",
        "allowed": True,
        "entitled": True,
        "unlimited": False,
        "limit": 3,
        "used": 0,
        "remaining": 3,
        "resets_at": org.subscription_state.current_period_end.isoformat().replace("+00:00", "Z"),
    }


def test_track_then_check_never_shows_stale_remaining(premium, django_capture_on_commit_callbacks):
    client, org = key_client(premium), premium.organization
    assert (
        client.post(CHECK, {"customer": org.pk, "feature": "premium_article"}, format="json").json()["remaining"] == 3
    )
    with django_capture_on_commit_callbacks(execute=True):
        tracked = client.post(
            TRACK, {"customer": org.pk, "feature": "premium_article", "idempotency_key": "read-1"}, format="json"
        )
    assert (tracked.status_code, tracked.json()["remaining"]) == (200, 2)
    assert (
        client.post(CHECK, {"customer": org.pk, "feature": "premium_article"}, format="json").json()["remaining"] == 2
    )


def test_track_past_the_limit_is_402_and_changes_nothing(premium):
    client, org = key_client(premium), premium.organization
    body = {"customer": org.pk, "feature": "premium_article", "quantity": 3, "idempotency_key": "all"}
    assert client.post(TRACK, body, format="json").json()["remaining"] == 0
    refused = client.post(TRACK, {**body, "quantity": 1, "idempotency_key": "one-more"}, format="json")
    assert_error(refused, status=402, code="quota_exceeded")
    assert UsageCounter.objects.get(organization=org).used == 3
    assert list(UsageLedgerEntry.objects.values_list("idempotency_key", flat=True)) == ["all"]


def test_a_retried_track_counts_once(premium):
    client, org = key_client(premium), premium.organization
    body = {"customer": org.pk, "feature": "free_quiz", "idempotency_key": "quiz-42"}
    first = client.post(TRACK, body, format="json").json()
    again = client.post(TRACK, body, format="json").json()
    assert first == again
    assert first["used"] == 1


def test_feature_missing_from_the_plan_is_403_not_entitled(free):
    body = {"customer": free.organization.pk, "feature": "premium_article", "idempotency_key": "x"}
    assert_error(key_client(free).post(TRACK, body, format="json"), status=403, code="not_entitled")
    assert not UsageLedgerEntry.objects.exists()
    check = key_client(free).post(
        CHECK, {"customer": free.organization.pk, "feature": "premium_article"}, format="json"
    )
    assert (check.json()["allowed"], check.json()["entitled"]) == (False, False)


def test_ai_chat_with_a_key_needs_a_member_of_the_organization(free):
    client, org = key_client(free), free.organization
    missing = client.post(TRACK, {"customer": org.pk, "feature": "ai_chat", "idempotency_key": "c1"}, format="json")
    assert_error(missing, status=400, code="member_required")
    stranger = MembershipFactory()
    body = {"customer": org.pk, "feature": "ai_chat", "user": stranger.user.pk, "idempotency_key": "c2"}
    assert_error(client.post(TRACK, body, format="json"), status=404, code="not_found")
    ok = client.post(TRACK, {**body, "user": free.user.pk}, format="json")
    assert (ok.status_code, ok.json()["used"], ok.json()["limit"]) == (200, 1, 5)


def test_signed_in_member_counts_ai_chats_against_themself(free):
    client, org = user_client(free), free.organization
    for n in range(5):
        assert (
            client.post(
                TRACK, {"customer": org.pk, "feature": "ai_chat", "idempotency_key": f"m{n}"}, format="json"
            ).status_code
            == 200
        )
    sixth = client.post(TRACK, {"customer": org.pk, "feature": "ai_chat", "idempotency_key": "m5"}, format="json")
    assert_error(sixth, status=402, code="quota_exceeded")
    assert UsageCounter.objects.get(organization=org).user_id == free.user.pk


@pytest.mark.parametrize("path", [CHECK, TRACK])
def test_another_customer_is_404_for_keys_and_people(premium, free, path):
    body = {"customer": premium.organization.pk, "feature": "premium_article", "idempotency_key": "steal"}
    assert_error(key_client(free).post(path, body, format="json"), status=404, code="not_found")
    assert_error(user_client(free).post(path, body, format="json"), status=404, code="not_found")
    assert not UsageLedgerEntry.objects.exists()


def test_entitlements_of_another_customer_is_404(premium, free):
    response = user_client(free).get(ENTITLEMENTS, {"customer": premium.organization.pk})
    assert_error(response, status=404, code="not_found")


@pytest.mark.parametrize("path", [ENTITLEMENTS, "/api/v1/subscriptions/", "/api/v1/invoices/", "/api/v1/purchases/"])
def test_a_malformed_customer_id_is_404(premium, path):
    assert_error(user_client(premium).get(path, {"customer": "acme"}), status=404, code="not_found")


def test_anonymous_is_401(premium):
    response = APIClient().post(CHECK, {"customer": premium.organization.pk, "feature": "ai_chat"}, format="json")
    assert_error(response, status=401, code="not_authenticated")


def test_invalid_input_is_400_with_fields(premium):
    body = {"customer": premium.organization.pk, "feature": "teleport", "quantity": 0, "idempotency_key": "k"}
    error = assert_error(key_client(premium).post(TRACK, body, format="json"), status=400, code="validation_error")
    assert {e["field"] for e in error["errors"]} == {"feature", "quantity"}


def test_entitlements_for_the_signed_in_user(premium):
    body = user_client(premium).get(ENTITLEMENTS).json()
    assert (body["customer"], body["plan"], body["status"]) == (premium.organization.pk, "premium", "active")
    features = {f["feature"]: (f["allowed"], f["limit"]) for f in body["features"]}
    assert features == {
        "ai_chat": (True, None),
        "free_quiz": (True, 2),
        "premium_article": (True, 3),
        "quiz_discount": (True, 3),
        "article_discount": (True, None),
    }


@pytest.mark.parametrize(
    ("path", "method", "request_name", "response_name"),
    [
        (CHECK, "post", "CheckAccessInputRequest", "AccessOutput"),
        (TRACK, "post", "TrackUsageInputRequest", "AccessOutput"),
        (ENTITLEMENTS, "get", None, "EntitlementsOutput"),
    ],
)
def test_feature_endpoints_are_in_the_openapi_schema_with_their_types(
    premium, path, method, request_name, response_name
):
    client = user_client(premium)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][path][method]
    if request_name:
        request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert request_ref == f"#/components/schemas/{request_name}"
    response_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert response_ref == f"#/components/schemas/{response_name}"


def test_query_counts_of_the_hot_paths(premium, django_assert_num_queries):
    client, org = key_client(premium), premium.organization
    body = {"customer": org.pk, "feature": "premium_article"}
    client.post(TRACK, {**body, "idempotency_key": "q0"}, format="json")  # opens this period's counter
    client.post(CHECK, body, format="json")  # fills the cache (a use makes the answer before it stale)
    # A cached check: no query (the API key comes from the cache too, accounts.services.api_key_cache).
    with django_assert_num_queries(0):
        assert client.post(CHECK, body, format="json").status_code == 200
    # A use (grant and key cached). PostgreSQL: the counter update and the ledger row in one
    # statement, inside a savepoint here because the test runs in a transaction (served, with no
    # transaction open, that statement is all). SQLite: savepoint, ledger insert, update, release.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):
        assert client.post(TRACK, {**body, "idempotency_key": "q1"}, format="json").status_code == 200


@pytest.fixture
def small_rates(settings):
    """The baseline far below the features rate, so each request shows which one applies."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "burst": "3/second",
            "sustained": "5/minute",
            "features": "8/minute",
        },
    }


def test_check_access_and_track_usage_share_their_own_rate_not_the_baseline(small_rates, premium):
    sdk = key_client(premium)
    check = {"customer": premium.organization.pk, "feature": "ai_chat", "user": premium.user.pk}
    for n in range(4):
        assert sdk.post(CHECK, check, format="json").status_code == 200
        assert sdk.post(TRACK, {**check, "idempotency_key": f"k{n}"}, format="json").status_code == 200

    response = sdk.post(CHECK, check, format="json")

    assert_error(response, status=429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert sdk.post(TRACK, {**check, "idempotency_key": "k9"}, format="json").status_code == 429
    assert not UsageLedgerEntry.objects.filter(idempotency_key="k9").exists()
    # The key's baseline bucket was not touched by the feature calls.
    assert sdk.get(ENTITLEMENTS).status_code == 200


def test_each_api_key_has_its_own_features_bucket(small_rates, premium):
    first, second = key_client(premium), key_client(premium)
    body = {"customer": premium.organization.pk, "feature": "premium_article"}
    for _ in range(8):
        assert first.post(CHECK, body, format="json").status_code == 200
    assert first.post(CHECK, body, format="json").status_code == 429
    assert second.post(CHECK, body, format="json").status_code == 200


def test_other_endpoints_keep_the_baseline(small_rates, premium):
    sdk = key_client(premium)
    for _ in range(3):
        assert sdk.get(ENTITLEMENTS).status_code == 200
    assert_error(sdk.get(ENTITLEMENTS), status=429, code="throttled")


def test_an_idempotency_key_reused_for_a_different_use_is_409(premium):
    client, org = key_client(premium), premium.organization
    body = {"customer": org.pk, "feature": "premium_article", "idempotency_key": "same-key"}
    assert client.post(TRACK, {**body, "quantity": 1}, format="json").status_code == 200
    reused = client.post(TRACK, {**body, "quantity": 2}, format="json")
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    retry = client.post(TRACK, {**body, "quantity": 1}, format="json")
    assert (retry.status_code, retry.json()["used"]) == (200, 1)
