"""Login history: one LoginEvent per attempt, from the pages and the API."""

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

from accounts.models import LoginEvent

USER_AGENT_MAX = LoginEvent._meta.get_field("user_agent").max_length


def client_ip(request: HttpRequest) -> str | None:
    """The address django-axes also uses, so history and lockout agree on who tried."""
    return get_client_ip_address(request) or None


def client_user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]


def login_event_record(
    *, request: HttpRequest, user, email: str, success: bool, method: str, reason: str = ""
) -> LoginEvent:
    return LoginEvent.objects.create(
        user=user,
        email=(email or (user.email if user else ""))[:254].lower(),
        ip_address=client_ip(request),
        user_agent=client_user_agent(request),
        success=success,
        method=method,
        reason=reason[:100],
    )
