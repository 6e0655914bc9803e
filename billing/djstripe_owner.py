"""One override of dj-stripe: the owner account of a synced object, when the caller already knows it.

dj-stripe stamps every object it syncs with the Stripe account that owns it
(`StripeModel._find_owner_account`). Without a Connect account in the data it asks the
database which account owns the API key in use, for the event and again for every
nested object it syncs: a savepoint, a `get_or_create` of the key and a read of the
account, four statements each time, inside the webhook transaction that holds the
object's lock.

The webhook intake reads the trigger's account together with the account's own secret
key, so it knows the answer: the key is unique and belongs to that account. While
`owner_account_known(api_key=..., account=...)` is active, a lookup for exactly that
key, about data that names no Connect account, returns that account; anything else
(another key, a Connect account, no context) goes to dj-stripe's own code. The context
lives only as long as the caller's block, so nothing is remembered between triggers or
processes and nothing can go stale.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from djstripe.models.base import StripeModel
from djstripe.settings import djstripe_settings
from djstripe.utils import get_id_from_stripe_data

_known: ContextVar[tuple[str, object] | None] = ContextVar("billing_djstripe_owner_account", default=None)
_original = StripeModel.__dict__["_find_owner_account"].__func__


@contextmanager
def owner_account_known(*, api_key: str, account):
    """Within the block, objects synced with `api_key` belong to `account` (no-op when `account` is None)."""
    if account is None:
        yield
        return
    token = _known.set((api_key, account))
    try:
        yield
    finally:
        _known.reset(token)


def _names_connect_account(data) -> bool:
    if not data:
        return False
    if isinstance(data, dict) and data.get("object") == "event":
        return bool(get_id_from_stripe_data(data.get("account")))
    return bool(get_id_from_stripe_data(getattr(data, "stripe_account", None)))


def _find_owner_account(cls, data, api_key=None, livemode=None):
    known = _known.get()
    if known is not None and not _names_connect_account(data):
        key = api_key or djstripe_settings.get_default_api_key(
            djstripe_settings.STRIPE_LIVE_MODE if livemode is None else livemode
        )
        if key == known[0]:
            return known[1]
    return _original(cls, data, api_key=api_key, livemode=livemode)


def install() -> None:
    """Called once from `BillingConfig.ready`; subclasses with their own override keep it."""
    StripeModel._find_owner_account = classmethod(_find_owner_account)
