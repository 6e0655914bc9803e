"""The id of the request being served, readable from anywhere in the same context."""

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_VALID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


def get_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def request_id_from_header(header_value: str | None) -> str:
    """Honour a well-formed incoming X-Request-ID; otherwise make a new one."""
    if header_value and _VALID.match(header_value):
        return header_value
    return uuid.uuid4().hex
