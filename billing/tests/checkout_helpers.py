"""Acting as the customer's browser against the sandbox's hosted pages."""

import urllib.error
import urllib.parse
import urllib.request

from django.test import Client


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def pay_hosted_checkout(url: str, *, card: str, email: str, promotion_code: str = "") -> int:
    """Submit the sandbox's hosted Checkout form; 303 means paid (and redirected to our success page)."""
    form = {"card_number": card, "email": email, **({"promotion_code": promotion_code} if promotion_code else {})}
    data = urllib.parse.urlencode(form).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        return opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=10).status
    except urllib.error.HTTPError as response:
        return response.code


def subscribe(membership, *, lookup_key: str = "premium_monthly", card: str = "4242424242424242") -> int:
    """Start Checkout from our page as the member, then pay it on the hosted page."""
    client = Client()
    client.force_login(membership.user)
    response = client.post("/billing/checkout/", {"lookup_key": lookup_key})
    assert response.status_code == 302, response.content
    return pay_hosted_checkout(response["Location"], card=card, email=membership.user.email)
