"""API rate limits: per caller a burst and a sustained window; stricter per IP on auth.

The caller is the API key when one was presented, else the signed-in user, else the
client IP. Rates live in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
"""

from rest_framework.settings import api_settings

from accounts.models import ApiKey
from common.client_ip import client_ip
from common.throttling import WindowCounterThrottle


class SettingsRateThrottle(WindowCounterThrottle):
    """Reads its rate when used, not at import, so a settings override takes effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        # Not DRF's: without NUM_PROXIES it keys on the whole X-Forwarded-For header,
        # which the client writes, so each made-up value opened a fresh window.
        return client_ip(request) or "unknown"


class CallerRateThrottle(SettingsRateThrottle):
    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = api_key_ident(request.auth.prefix)
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def cache_key_for(self, request, view, *, ident):
        return self.cache_format % {"scope": self.scope, "ident": ident}


def api_key_ident(prefix: str) -> str:
    """A key's identity in the rate limits: its prefix, known from the header before the key is read."""
    return f"key:{prefix}"


class BurstRateThrottle(CallerRateThrottle):
    scope = "burst"


class SustainedRateThrottle(CallerRateThrottle):
    scope = "sustained"


class FeaturesRateThrottle(CallerRateThrottle):
    """The feature-access endpoints SDKs call on every use: one generous window of their own
    instead of burst + sustained, which a busy SDK would exhaust in a second."""

    scope = "features"


class AuthEndpointThrottle(SettingsRateThrottle):
    """Token obtain/refresh: per client IP, whoever the request claims to be."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
