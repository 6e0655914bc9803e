from auditlog.middleware import AuditlogMiddleware
from django.http import HttpResponseBadRequest
from django.utils.functional import SimpleLazyObject

from common.exceptions import api_error_response
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


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulCharactersMiddleware:
    """400 for a NUL character anywhere in the path, the query string or a posted form.

    No input of ours can contain one, and PostgreSQL refuses it in text: without this a
    `?email=a%00b` reached the database and came back as a 500. DRF's and Django's form
    CharFields already refuse NUL in bodies; this covers what views read directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            message = "The request contains a NUL character."
            if request.path.startswith("/api/"):
                return api_error_response(status_code=400, code="malformed_request", message=message)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path_info:
            return True
        sources = [request.GET]
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            sources.append(request.POST)
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for source in sources
            for key, values in source.lists()
        )
