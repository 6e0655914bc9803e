"""The client's IP address: one answer for throttles, lockout and login history.

`X-Forwarded-For` is written by whoever sent the request, so it is only believed as far
as our own proxies wrote it. `TRUSTED_PROXY_COUNT` says how many proxies (load balancer,
ingress...) stand in front of the app server: each appends the address it received the
request from, so with N trusted proxies the client is the N-th address from the right
of `X-Forwarded-For`; anything further left was supplied by the client and is ignored.
With 0 (the default, no proxy) the header is ignored and the socket address is the client.
"""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    value = (value or "").strip()
    try:
        return str(ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client as far as trusted proxies vouch for it; None if unknown."""
    meta = getattr(request, "META", {})
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= trusted:
            return _valid(hops[-trusted])
        # Fewer hops than proxies: the request did not come through them all (or the
        # header was stripped); fall back to the socket, which is then the nearest hop.
    return _valid(meta.get("REMOTE_ADDR", ""))


def axes_client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: django-axes counts failures per this address."""
    return client_ip(request) or ""
