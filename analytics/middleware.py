"""Page views: one `page_view` event per HTML page served, through common.events.track (which only buffers)."""

import secrets

from common.events import VISITOR_COOKIE, track

VISITOR_COOKIE_AGE = 365 * 24 * 3600
SKIPPED_PREFIXES = ("/static/", "/admin/", "/api/", "/stripe/", "/healthz", "/readyz", "/favicon")


class PageViewMiddleware:
    """Records successful GETs of HTML pages; anonymous visitors get a random first-party id in a cookie.

    Never breaks a page: tracking failures are counted by `track` itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "GET"
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith(SKIPPED_PREFIXES)
            and not getattr(request, "htmx", False)
        ):
            visitor = request.COOKIES.get(VISITOR_COOKIE, "")
            if not visitor or len(visitor) > 64:
                visitor = secrets.token_hex(16)
                response.set_cookie(
                    VISITOR_COOKIE,
                    visitor,
                    max_age=VISITOR_COOKIE_AGE,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
            user = getattr(request, "user", None)
            match = getattr(request, "resolver_match", None)
            track(
                "page_view",
                user_id=user.pk if user is not None and user.is_authenticated else None,
                anonymous_id=visitor,
                path=request.path,
                # The page as an item (view name and its first URL argument, e.g. a template's slug),
                # so rollups count views per page without keeping paths.
                item_type=match.view_name if match else "",
                item_id=str(next(iter(match.kwargs.values()), "")) if match else "",
            )
        return response
