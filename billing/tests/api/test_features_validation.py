"""The feature API's fast input check and its answer builder agree with their serializers exactly."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.api.features import (
    AccessOutput,
    CheckAccessInput,
    TrackUsageInput,
    access_data,
    feature_input_plainly_valid,
)
from billing.models import FEATURE_CHOICES
from billing.selectors import Access

FEATURES = [value for value, _ in FEATURE_CHOICES]
anything = st.one_of(
    st.integers(), st.integers(-(2**70), 2**70), st.booleans(), st.none(), st.floats(allow_nan=False),
    st.text(max_size=8), st.sampled_from(["7", " 7", "1e3", "ai_chat", ""]), st.lists(st.integers(), max_size=2),
)
keys = st.one_of(
    st.text(max_size=20), st.sampled_from(["k" * 255, "k" * 256, " padded", "tab\t", "nul\x00", "\u2028", "é"]),
    st.integers(), st.none(),
)
# Mostly what SDKs send (the fast check's domain), and anything at or past its edges.
plain = st.fixed_dictionaries(
    {"customer": st.integers(-5, 10**12), "feature": st.one_of(st.sampled_from(FEATURES), st.just("nope"))},
    optional={
        "user": st.one_of(st.none(), st.integers(-5, 10**9)),
        "quantity": st.one_of(st.integers(-2, 1_000_001), st.just(True)),
        "idempotency_key": keys,
    },
)
odd = st.dictionaries(
    st.sampled_from(["customer", "feature", "user", "quantity", "idempotency_key", "currency"]),
    st.one_of(anything, keys),
    max_size=6,
)
bodies = st.one_of(plain, odd, st.lists(st.integers(), max_size=2), st.none(), st.text(max_size=5))


@pytest.mark.django_db
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=bodies, with_key=st.booleans())
def test_what_the_fast_check_passes_the_serializer_passes_identically(data, with_key):
    fast = feature_input_plainly_valid(data, idempotency_key=with_key)
    if fast is None:
        return  # the serializer decides (and words any error), as before
    serializer = (TrackUsageInput if with_key else CheckAccessInput)(data=data)
    assert serializer.is_valid(), serializer.errors
    assert fast == dict(serializer.validated_data)


def test_sdk_requests_take_the_fast_check_and_anything_odd_the_serializer():
    assert feature_input_plainly_valid({"customer": 3, "feature": "ai_chat"}, idempotency_key=False) == {
        "customer": 3, "feature": "ai_chat", "user": None, "quantity": 1,
    }
    assert feature_input_plainly_valid(
        {"customer": 3, "feature": "ai_chat", "user": 8, "quantity": 2, "idempotency_key": "use-1"},
        idempotency_key=True,
    ) == {"customer": 3, "feature": "ai_chat", "user": 8, "quantity": 2, "idempotency_key": "use-1"}
    for body, with_key in (
        ({"customer": "3", "feature": "ai_chat"}, False),  # a number as text: the serializer converts it
        ({"customer": 3, "feature": "ai_chat", "quantity": 0}, False),
        ({"customer": 3, "feature": "nope"}, False),
        ({"customer": 3, "feature": "ai_chat", "idempotency_key": " k"}, True),  # trimmed by the serializer
        ({"customer": 3, "feature": "ai_chat"}, True),  # no key: the serializer's error
        ({"customer": 3, "feature": "ai_chat", "idempotency_key": "k", "currency": "eur"}, True),  # refused there
    ):
        assert feature_input_plainly_valid(body, idempotency_key=with_key) is None


accesses = st.builds(
    Access,
    st.sampled_from(FEATURES),
    entitled=st.booleans(),
    unlimited=st.booleans(),
    limit=st.one_of(st.none(), st.integers(0, 10**9)),
    used=st.integers(0, 10**9),
    remaining=st.one_of(st.none(), st.integers(0, 10**9)),
    resets_at=st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
        st.just(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) + timedelta(hours=0)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(access=accesses, quantity=st.integers(1, 10**6))
def test_the_answer_is_the_output_serializers_representation(access, quantity):
    expected = AccessOutput({
        "feature": access.feature, "allowed": access.allows(quantity), "entitled": access.entitled,
        "unlimited": access.unlimited, "limit": access.limit, "used": access.used, "remaining": access.remaining,
        "resets_at": access.resets_at,
    }).data
    assert access_data(access, quantity) == dict(expected)
