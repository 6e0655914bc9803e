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
