import time

from django.contrib.auth import logout

from accounts.services.login_history import client_user_agent
from accounts.services.sessions import auth_session_touch
from common.client_ip import client_ip

# Keys in the Django session, written at login by accounts.receivers.
AUTH_SESSION_ID = "_plateau_auth_session_id"
AUTH_SESSION_SEEN = "_plateau_auth_session_seen"
# "Last used" of a browser is a hint for people: refreshed at most once a minute.
TOUCH_EVERY_SECONDS = 60


class AuthSessionMiddleware:
    """Keeps a browser's AuthSession row current, and signs the browser out if it was revoked.

    Revoking deletes the Django session already; this catches the rest (a session key
    that changed after login, a cache-backed session store) within a minute, for one
    UPDATE per session per minute and no query on other requests.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        auth_session_id = session.get(AUTH_SESSION_ID) if session is not None else None
        if auth_session_id is not None and time.time() - session.get(AUTH_SESSION_SEEN, 0) >= TOUCH_EVERY_SECONDS:
            alive = auth_session_touch(
                auth_session_id=auth_session_id,
                session_key=session.session_key or "",
                ip_address=client_ip(request),
                user_agent=client_user_agent(request),
            )
            if alive:
                session[AUTH_SESSION_SEEN] = time.time()
            else:
                logout(request)
        return self.get_response(request)
