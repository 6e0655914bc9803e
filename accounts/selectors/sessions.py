from django.db.models import QuerySet

from accounts.models import AuthSession, LoginEvent


def auth_session_list_active(*, user) -> QuerySet[AuthSession]:
    """The user's signed-in devices (browser sessions and API token families), most recently used first."""
    return AuthSession.objects.filter(user=user, revoked_at__isnull=True).order_by("-last_used_at", "-id")


def auth_session_get_active(*, user, session_id) -> AuthSession | None:
    """One of the user's active sessions; None for anyone else's, so ids cannot be probed."""
    try:
        return auth_session_list_active(user=user).get(pk=int(session_id))
    except (AuthSession.DoesNotExist, ValueError, TypeError):
        return None


def auth_session_for_browser(*, user, session_key: str | None) -> AuthSession | None:
    """The active AuthSession of the browser holding Django session `session_key`."""
    if not session_key:
        return None
    return auth_session_list_active(user=user).filter(kind=AuthSession.Kind.WEB, session_key=session_key).first()


def login_event_list(*, user, limit: int = 50) -> QuerySet[LoginEvent]:
    return LoginEvent.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
