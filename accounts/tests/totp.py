"""RFC 6238 codes for tests, from allauth's own HOTP primitives."""

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value


def totp_code(secret: str, *, window_offset: int = 0) -> str:
    """The code an authenticator app shows now (or `window_offset` 30 s windows away)."""
    counter = int(time.time()) // app_settings.TOTP_PERIOD + window_offset
    return format_hotp_value(hotp_value(secret, counter))


def totp_activate(user) -> str:
    """Give `user` an authenticator app; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def login_with_totp(client, *, user, password: str, secret: str, next_url: str = "/") -> None:
    """Log in through allauth's pages: password, then the TOTP step."""
    response = client.post("/accounts/login/", {"login": user.email, "password": password, "next": next_url})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/authenticate/"), response
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[:2000]
