"""What content's API views share: who the caller speaks for."""

from billing.anonymous import anonymous_buyer_id
from billing.selectors import Viewer, viewer_for


def api_viewer(request) -> Viewer:
    """The caller's organization (?org=<id>, else their primary one), or their browser session's purchases."""
    session = getattr(request, "session", None)
    return viewer_for(
        user=request.user,
        anonymous_session_id=anonymous_buyer_id(session) if session is not None else "",
        organization_id=request.query_params.get("org"),
    )
