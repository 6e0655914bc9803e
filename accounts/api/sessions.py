"""/api/v1/auth/sessions/: the signed-in devices of the caller; revoke one or all."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AuthSession
from accounts.selectors.sessions import auth_session_for_browser, auth_session_get_active, auth_session_list_active
from accounts.services.sessions import auth_session_revoke, auth_session_revoke_all
from common.pagination import DefaultPagination, paginated_response
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED


def _caller_session(request) -> AuthSession | None:
    """The session this request was made with, so "revoke all" can spare it if asked."""
    family = request.auth.get("family") if hasattr(request.auth, "get") else None
    if family:
        return AuthSession.objects.filter(family=family, user=request.user).first()
    session_key = request.session.session_key if hasattr(request, "session") else None
    return auth_session_for_browser(user=request.user, session_key=session_key)


class SessionOutput(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="True for the session this request was made with.")

    class Meta:
        model = AuthSession
        fields = ["id", "kind", "user_agent", "ip_address", "created_at", "last_used_at", "current"]

    def get_current(self, obj) -> bool:
        return obj.pk == self.context.get("current_id")


class SessionListView(APIView):
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["sessions"],
        summary="List my active sessions (browsers and API token families)",
        responses={200: SessionOutput(many=True), 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        current = _caller_session(request)
        sessions = auth_session_list_active(user=request.user)
        return paginated_response(
            request=request,
            view=self,
            items=sessions,
            serialize=lambda page: SessionOutput(page, many=True, context={"current_id": current and current.pk}).data,
        )


class SessionRevokeView(APIView):
    @extend_schema(
        tags=["sessions"],
        summary="Revoke one of my sessions",
        request=None,
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, session_id: int):
        auth_session = auth_session_get_active(user=request.user, session_id=session_id)
        if auth_session is None:
            raise Http404("No such session.")
        auth_session_revoke(auth_session=auth_session)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeAllInput(serializers.Serializer):
    keep_current = serializers.BooleanField(default=True, help_text="Keep the session this request was made with.")


class RevokeAllOutput(serializers.Serializer):
    revoked = serializers.IntegerField()


class SessionRevokeAllView(APIView):
    @extend_schema(
        tags=["sessions"],
        summary="Revoke all my sessions (by default all but this one)",
        request=RevokeAllInput,
        responses={200: RevokeAllOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def post(self, request):
        data = RevokeAllInput(data=request.data)
        data.is_valid(raise_exception=True)
        keep = _caller_session(request) if data.validated_data["keep_current"] else None
        revoked = auth_session_revoke_all(user=request.user, keep=keep)
        return Response(RevokeAllOutput({"revoked": revoked}).data)
