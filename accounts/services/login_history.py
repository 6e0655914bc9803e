"""Login history: one LoginEvent per attempt, from the pages and the API.

The address is common.client_ip's, as django-axes and the throttles use, so history,
lockout and rate limits agree on who tried.
"""

from django.http import HttpRequest

from accounts.models import LoginEvent
from common.client_ip import client_ip

USER_AGENT_MAX = LoginEvent._meta.get_field("user_agent").max_length


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
