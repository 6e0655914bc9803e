"""The sandbox's shared machinery: ids, time, object storage, events, expansion, lists."""

import copy
import secrets
import string
import threading
import time

from .shapes import TEMPLATES
from .store import Store
from .wire import invalid, missing

API_VERSION = "2025-03-31.basil"
_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


class SandboxCore:
    """State, clock and events; the resource mixins build on these."""

    def __init__(self, store: Store, *, base_url: str, api_keys: tuple[str, ...]):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.api_keys = api_keys
        self.request_context: dict = {"id": None, "idempotency_key": None}
        # Set while the clock processes a moment, so objects made then carry that time.
        self._moment: int | None = None
        self.events_pending = threading.Condition()

    # --- time -----------------------------------------------------------------------
    def now(self, customer_id: str | None = None) -> int:
        """Stripe's "now" for a customer: their test clock's frozen time, else the sandbox clock."""
        if self._moment is not None:
            return self._moment
        if customer_id:
            customer = self.store.get(customer_id)
            if customer and customer.get("test_clock"):
                clock = self.store.get(customer["test_clock"])
                if clock:
                    return clock["frozen_time"]
        return int(time.time()) + int(self.store.meta_get("clock_offset", 0))

    # --- objects --------------------------------------------------------------------
    @staticmethod
    def blank(kind: str) -> dict:
        return copy.deepcopy(TEMPLATES[kind])

    def save(self, obj: dict, internal: dict | None = None) -> dict:
        return self.store.put(obj, internal)

    def tombstone(self, object_id: str, kind: str) -> dict:
        """Replace an object with Stripe's deleted stub, stored under its own type so lists skip it."""
        stub = {"id": object_id, "object": kind, "deleted": True}
        return self.store.put(stub, kind=f"deleted_{kind}")

    def fetch(self, object_id: str, kind: str, *, param: str = "id") -> dict:
        obj = self.store.get(object_id) if isinstance(object_id, str) else None
        if obj is None or obj.get("object") != kind or obj.get("deleted"):
            raise missing(kind.split(".")[-1].replace("_", " "), str(object_id), param)
        return obj

    # --- events ---------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict, previous: dict | None = None) -> dict:
        """Record an event for a state change and queue it for every subscribed endpoint."""
        event = self.blank("event")
        data = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        endpoints = [
            endpoint
            for endpoint in self.store.all("webhook_endpoint")
            if endpoint["status"] == "enabled"
            and ("*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"])
        ]
        event.update(
            id=random_id("evt"),
            api_version=API_VERSION,
            created=self.now(self._customer_of(obj)),
            data=data,
            livemode=False,
            pending_webhooks=len(endpoints),
            request=dict(self.request_context),
            type=event_type,
        )
        self.save(event)
        for endpoint in endpoints:
            self.store.add_delivery(event["id"], endpoint["id"], time.time())
        if endpoints:
            with self.events_pending:
                self.events_pending.notify_all()
        return event

    @staticmethod
    def _customer_of(obj: dict) -> str | None:
        """Whose clock an object's event follows."""
        if obj.get("object") == "customer":
            return obj["id"]
        customer = obj.get("customer")
        return customer if isinstance(customer, str) else None

    @staticmethod
    def changes(before: dict, after: dict) -> dict:
        """Stripe's `previous_attributes`: the old value of every top-level field that changed."""
        return {key: before.get(key) for key in after if before.get(key) != after[key] and key != "updated"}

    # --- reading: expansion and lists -------------------------------------------------
    def expand(self, obj, paths: list[str]):
        for path in paths:
            self._expand_path(obj, path.split("."))
        return obj

    def _expand_path(self, node, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "line_items" and node.get("object") == "checkout.session":
            # Not part of the session object until asked for, as in Stripe.
            node["line_items"] = self.checkout_session_line_items(node["id"], {})
            self._expand_path(node["line_items"], rest)
            return
        if head == "data" and node.get("object") == "list":
            for item in node["data"]:
                self._expand_path(item, rest)
            return
        if head not in node:
            # Some fields are left out of an object until asked for (Stripe's "includable"
            # fields, such as a customer's `sources`); anything else unknown changes nothing.
            included = self._includable(node, head)
            if included is not None:
                node[head] = included
                self._expand_path(included, rest)
            return
        value = node[head]
        if isinstance(value, list):
            node[head] = [self._expanded(item) for item in value]
            for item in node[head]:
                self._expand_path(item, rest)
            return
        node[head] = self._expanded(value)
        self._expand_path(node[head], rest)

    def _includable(self, node: dict, field: str):
        """The value of a field Stripe includes only on request, or None if `field` is not one."""
        kind, object_id = node.get("object"), node.get("id")
        if not isinstance(object_id, str) or node.get("deleted"):
            return None
        if kind == "customer":
            if field == "sources":
                return self.customer_sources(object_id, {})
            if field == "tax_ids":
                return self.customer_tax_ids(object_id, {})
            if field == "subscriptions":
                # Like the customer's own list: the first page of subscriptions not yet ended.
                listed = self.subscription_list({"customer": object_id})
                return {**listed, "url": f"/v1/customers/{object_id}/subscriptions"}
        if kind == "price" and field == "currency_options":
            # The sandbox prices in one currency only, so the options are that currency's.
            fields = ("custom_unit_amount", "tax_behavior", "unit_amount", "unit_amount_decimal")
            return {node["currency"]: {name: node.get(name) for name in fields}}
        return None

    def _expanded(self, value):
        if isinstance(value, str):
            found = self.store.get(value)
            if found is not None:
                return found
        return value

    def empty_list(self, collection: str, params: dict) -> dict:
        return self.page([], params, f"/v1/{collection}")

    @staticmethod
    def page(items: list[dict], params: dict, url: str) -> dict:
        """A Stripe list object over items already in Stripe's order (newest first)."""
        limit = params.get("limit", 10)
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            raise invalid(f"Invalid integer: {limit}", param="limit") from None
        if not 1 <= limit <= 100:
            raise invalid("This value must be between 1 and 100.", param="limit")
        ids = [item["id"] for item in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after:
            if after not in ids:
                raise missing("object", after, "starting_after")
            window = items[ids.index(after) + 1 :]
            chunk, has_more = window[:limit], len(window) > limit
        elif before:
            if before not in ids:
                raise missing("object", before, "ending_before")
            window = items[: ids.index(before)]
            chunk, has_more = window[-limit:], len(window) > limit
        else:
            chunk, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": chunk, "has_more": has_more, "url": url}
