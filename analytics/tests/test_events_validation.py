"""The events API's fast check agrees with its serializer: what it passes, the serializer passes the same."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.api.events import EventBatchInput, events_plainly_valid
from common.events import EVENT_NAMES

texts = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["", " padded ", "tab\t", "nul\x00", "x" * 64, "x" * 65, "/learn/", "é" * 33]),
    st.integers(),
    st.none(),
    st.booleans(),
)
properties = st.one_of(
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20)), max_size=4),
    st.just({"big": "x" * 3000}),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=5),
    st.none(),
)
event = st.dictionaries(
    st.sampled_from(["name", "anonymous_id", "path", "item_type", "item_id", "properties", "at", "other"]),
    st.one_of(texts, properties),
    max_size=7,
).flatmap(
    lambda fields: st.builds(
        lambda name, props: {**fields, "name": name, **({"properties": props} if "properties" in fields else {})},
        st.one_of(st.sampled_from(EVENT_NAMES), st.sampled_from(["nope", "", "Click"]), st.integers()),
        properties,
    )
)
# Mostly plain events (the fast check's whole domain), with texts at and past their edges.
plain_event = st.fixed_dictionaries(
    {"name": st.sampled_from(EVENT_NAMES)},
    optional={
        "anonymous_id": st.text(max_size=66),
        "path": st.one_of(st.text(max_size=40), st.just("p" * 500), st.just("p" * 501)),
        "item_type": st.text(max_size=34),
        "item_id": st.text(max_size=66),
        "properties": st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20)), max_size=4),
    },
)
batch = st.one_of(
    st.fixed_dictionaries({"events": st.lists(plain_event, min_size=1, max_size=5)}),
    st.fixed_dictionaries({"events": st.lists(event, min_size=0, max_size=4)}),
    st.fixed_dictionaries({"events": st.lists(event, min_size=1, max_size=2), "organization": st.integers(1, 9)}),
    st.just({"events": [{"name": "click"}] * 101}),
    st.just({"events": "click"}),
)


@pytest.mark.django_db
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=batch)
def test_what_the_fast_check_passes_the_serializer_passes_identically(data):
    fast = events_plainly_valid(data)
    serializer = EventBatchInput(data=data)
    if fast is None:
        return  # the serializer decides (and words any error), as before
    assert serializer.is_valid(), serializer.errors
    assert "organization" not in serializer.validated_data
    assert fast == [dict(e) for e in serializer.validated_data["events"]]


def test_plain_clicks_take_the_fast_check_and_anything_odd_the_serializer():
    clicks = {"events": [{"name": "click", "path": "/learn/", "properties": {"n": 1}}]}
    assert events_plainly_valid(clicks) == [
        {"name": "click", "anonymous_id": "", "path": "/learn/", "item_type": "", "item_id": "", "properties": {"n": 1}}
    ]
    for odd in (
        {"events": [{"name": "click", "at": "2026-12-01T10:00:00Z"}]},  # a time: parsed by the serializer
        {"events": [{"name": "click", "path": " /learn/ "}]},  # trimmed by the serializer
        {"events": [{"name": "click"}], "organization": 3},
        {"events": [{"name": "nope"}]},
        {"events": []},
    ):
        assert events_plainly_valid(odd) is None
