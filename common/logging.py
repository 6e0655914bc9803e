import logging

from common.request_id import get_request_id


class RequestIdFilter(logging.Filter):
    """Put the current request id on every log record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = get_request_id()
        return True
