"""Make a browser session's authentications older, as if the person had left it open."""

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY


def age_authentications(client, *, seconds: int = 301) -> None:
    session = client.session
    records = session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**record, "at": record["at"] - seconds} for record in records]
    session.save()
