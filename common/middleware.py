from auditlog.middleware import AuditlogMiddleware
from django.utils.functional import SimpleLazyObject

from common.request_id import request_id_from_header, reset_request_id, set_request_id


class RequestIdMiddleware:
    """Give every request an id (honouring X-Request-ID), echo it, and expose it to logs."""

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get(self.header))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[self.header] = request_id
        return response


class AuditlogActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, reading the actor when an entry is written rather than when the request starts.

    API requests are authenticated by DRF inside the view (JWT), after every middleware
    ran; DRF then sets the user on the Django request too. auditlog's own middleware took
    the user at the start, so API changes were logged with no actor
    (jazzband/django-auditlog#115). Machines (API keys) act as no person: no actor.
    """

    @staticmethod
    def _get_actor(request):
        def current_user():
            user = getattr(request, "user", None)
            return user if user is not None and user.is_authenticated else None

        return SimpleLazyObject(current_user)
