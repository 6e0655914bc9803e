"""Site-wide error handlers: JSON in the API error shape under /api/, pages elsewhere."""

from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from common.exceptions import api_error_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return api_error_response(status_code=404, code="not_found", message="Not found.")
    return defaults.page_not_found(request, exception)


@csrf_exempt  # any method may reach it: a CSRF 403 page would answer an unknown POST instead
def api_not_found(request, *args, **kwargs):
    """Every path under /api/ that no route serves: JSON 404, in DEBUG too (Django's
    debug 404 page would otherwise answer), and no slash-appending redirect of a POST."""
    from django.urls import Resolver404, resolve

    message = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = f"Not found. Did you mean {request.path}/ (with the trailing slash)?"
    return api_error_response(status_code=404, code="not_found", message=message)


def server_error(request):
    if _is_api(request):
        return api_error_response(
            status_code=500,
            code="server_error",
            message="Something went wrong on our side. Quote the request id if you contact support.",
        )
    return defaults.server_error(request)
