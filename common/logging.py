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
