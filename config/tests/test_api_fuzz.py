"""The API under generated hostile input: every operation of our OpenAPI schema, called by
schemathesis (hypothesis underneath) with bodies, queries and path parameters built from
the schema and mutated against it. No request may get a 5xx, and every 4xx is JSON in the
one error shape. Bounded: a fixed number of examples per operation, derandomized so a
failure reproduces; signed in as an organization admin with a fresh login, so the checks
behind authentication are reached too. On PostgreSQL (the services run) this also catches
what SQLite lets through (NUL characters, overlong strings). It runs with a transactional
database: schemathesis calls the WSGI application directly, and on PostgreSQL the end of
such a request would otherwise close the connection holding the test's transaction.
"""

import json
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES_PER_OPERATION = 10
ERROR_KEYS = {"status", "code", "message", "errors", "request_id"}


@pytest.fixture
def wsgi_requests_keep_the_test_connection():
    """schemathesis calls the WSGI application itself; like Django's test client, keep the
    end of each request from closing the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(settings_override, wsgi_requests_keep_the_test_connection):
    from config.wsgi import application

    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = application
    return schema


@pytest.fixture
def settings_override(settings):
    """Many calls from one caller: the rate limits would otherwise answer most of them."""
    rates = {key: "100000/minute" for key in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.AXES_ENABLED = False


def _fresh_caller() -> dict:
    """A new organization admin, just logged in: an earlier operation may have signed the
    previous one out (logout, revoke-all) or deleted it."""
    member = MembershipFactory(role=Role.ADMIN)
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": member.user.email, "password": PASSWORD}, format="json"
    )
    return {"Authorization": f"Bearer {response.json()['access']}"}


def _check(case, response) -> None:
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), (where, content_type)
        body = response.json()
        assert set(body) == ERROR_KEYS, (where, body)
        assert body["status"] == response.status_code, (where, body)


def test_no_5xx_and_every_4xx_in_the_error_shape(api_schema):
    # schemathesis' own pytest plugin does not run under pytest 9, so each operation's
    # strategy is driven by hypothesis directly (same generation, same checks).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30
    failures = {}
    for operation in operations:
        caller = _fresh_caller()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            # No shrinking: a failure is reported as found (it names the operation and status).
            phases=[Phase.explicit, Phase.generate],
        )
        def fuzz(case):
            _check(case, case.call(headers=caller))  # noqa: B023 (called within this iteration)

        started = time.monotonic()
        try:
            fuzz()
        except AssertionError as error:
            failures[f"{operation.method.upper()} {operation.path}"] = str(error).splitlines()[0]
        print(f"fuzzed {operation.method.upper()} {operation.path}: {time.monotonic() - started:.1f}s")
    assert failures == {}
