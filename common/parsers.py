import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BodyTooLarge(ParseError):
    default_detail = "Request body is too large."
    default_code = "body_too_large"


class BodyTooDeep(ParseError):
    default_detail = "Request body is nested too deeply."
    default_code = "body_too_deep"


# No request of ours nests anywhere near this; deeper bodies are refused before any
# code (a serializer, the error renderer) walks them recursively.
MAX_JSON_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    """Iteratively, so that measuring a hostile body cannot itself overflow the stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class LimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, or nested deeper than MAX_JSON_DEPTH.

    DRF reads the request stream directly, bypassing Django's own size check, so
    without this an API client could make the server buffer an unbounded body.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge()
        data = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(data) > limit:
            raise BodyTooLarge()
        try:
            parsed = super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError as exc:
            # json's decoder recurses once per "[" or "{": ~200 KB of "[" exhausts the stack.
            raise BodyTooDeep() from exc
        if _depth_exceeds(parsed, MAX_JSON_DEPTH):
            raise BodyTooDeep()
        return parsed
