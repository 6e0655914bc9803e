"""One override of dj-stripe: the owner account of a synced object, when the caller already knows it.

dj-stripe stamps every object it syncs with the Stripe account that owns it
(`StripeModel._find_owner_account`). Without a Connect account in the data it asks the
database which account owns the API key in use, for the event and again for every
nested object it syncs: a savepoint, a `get_or_create` of the key and a read of the
account, four statements each time, inside the webhook transaction that holds the
object's lock.

dj-stripe's handlers also ask the account for its default key (another read) several
times per event. The webhook intake reads the trigger's account together with the
account's own secret key, so it knows both answers: the key is unique and belongs to
that account, and it is the account's first secret key. While
`owner_account_known(api_key=..., account=...)` is active, a lookup for exactly that
key, about data that names no Connect account, returns that account, and that account's
default key (for the key's mode) is that key; anything else (another key or account, a
Connect account, no context) goes to dj-stripe's own code. The context
lives only as long as the caller's block, so nothing is remembered between triggers or
processes and nothing can go stale.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from djstripe.models import Account
from djstripe.models.base import StripeModel
from djstripe.settings import djstripe_settings
from djstripe.utils import get_id_from_stripe_data

_known: ContextVar[tuple[str, object, bool | None] | None] = ContextVar("billing_djstripe_owner_account", default=None)
_original = StripeModel.__dict__["_find_owner_account"].__func__
_original_default_key = Account.get_default_api_key


@contextmanager
def owner_account_known(*, api_key: str, account, key_livemode: bool | None = None):
    """Within the block, objects synced with `api_key` belong to `account` (no-op when `account` is None).

    `api_key` must be the account's first secret key (by id), the one `Account.default_api_key`
    returns; `key_livemode` is that key's mode. Then the account's default key for that mode
    (or for no mode) is `api_key` too, and dj-stripe's handlers need not read it again.
    """
    if account is None:
        yield
        return
    token = _known.set((api_key, account, key_livemode))
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


def _get_default_api_key(self, livemode: bool | None = None) -> str:
    known = _known.get()
    if known is not None and self.pk is not None and self.pk == known[1].pk:
        if livemode is None or (known[2] is not None and livemode == known[2]):
            return known[0]
    return _original_default_key(self, livemode)


def install() -> None:
    """Called once from `BillingConfig.ready`; subclasses with their own override keep it."""
    StripeModel._find_owner_account = classmethod(_find_owner_account)
    Account.get_default_api_key = _get_default_api_key
