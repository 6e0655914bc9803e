"""The id that ties an anonymous visitor's purchases to the account they then sign up with.

It lives in the session's data, not as the session key: Django gives the session a new
key at login (against session fixation) but keeps its data, and a session key written
into our tables would let anyone who can read them take over the visitor's session.
"""

import secrets

SESSION_FIELD = "billing_anonymous_buyer"


def anonymous_buyer_id(session, *, create: bool = False) -> str:
    """This browser session's anonymous buyer id ("" if it has none and `create` is false)."""
    value = session.get(SESSION_FIELD, "")
    if not value and create:
        value = secrets.token_urlsafe(24)
        session[SESSION_FIELD] = value
    return value
