"""A used TOTP code is refused for as long as it could still be accepted.

allauth.mfa remembers a used code in the cache for one TOTP period (30 s), but with
MFA_TOTP_TOLERANCE=n it accepts a code from n windows before to n windows after the
current one, so a code lives up to (2n + 1) periods: with tolerance 1, a code used in
its first window was accepted again 31 s later. allauth offers no hook for this, so
`remember_used_codes_while_valid` (called once from AccountsConfig.ready) sets the
memory to the code's whole life. The memory is the default cache: Redis in production,
so every process refuses a replay. Tests pin the behaviour (accounts/tests/test_totp_replay.py),
so an allauth upgrade that changes the internals fails there rather than silently.
"""

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache


def totp_code_lifetime_seconds() -> int:
    return (2 * app_settings.TOTP_TOLERANCE + 1) * app_settings.TOTP_PERIOD


def _mark_code_used(self: TOTP, code: str) -> bool:
    """False if the code was already used (cache.add is atomic across processes on Redis)."""
    return cache.add(self._get_used_cache_key(code), "y", timeout=totp_code_lifetime_seconds())


def remember_used_codes_while_valid() -> None:
    TOTP._mark_code_used = _mark_code_used
