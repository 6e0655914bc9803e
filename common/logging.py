import logging

from common.request_id import get_request_id


class RequestIdFilter(logging.Filter):
    """Put the current request id on every log record (`-` outside a request).

    Django logs 4xx/5xx responses after the middleware has returned, passing the
    request along, so that id is taken from the request itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or get_request_id()
        return True


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx is the client's doing: Django logs it as one WARNING line, without the traceback it attaches.

    Django passes the exception (PermissionDenied, BadRequest, ...) to its `django.request`
    log line, so every refused request printed a full traceback, which drowns real errors.
    5xx records keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and 400 <= (getattr(record, "status_code", None) or 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
