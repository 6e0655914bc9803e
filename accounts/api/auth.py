"""/api/v1/auth/: sign-up, JWT obtain, refresh, logout, and who am I."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors.organizations import membership_list_for_user_by_name
from accounts.selectors.users import profile_for
from accounts.services.tokens import token_logout, token_obtain, token_refresh
from accounts.services.users import user_sign_up
from accounts.throttling import AuthEndpointThrottle
from common.schema import BAD_REQUEST, FORBIDDEN, TOO_MANY, UNAUTHENTICATED
from common.serializers import StrictInputSerializer

ERROR_RESPONSES = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 429: TOO_MANY}


class TokenObtainInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, max_length=4096)
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="TOTP or recovery code; required when MFA is on."
    )


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField(help_text="Access token, valid 15 minutes.")
    refresh = serializers.CharField(help_text="Refresh token, valid 7 days, single use (rotated).")
    session_id = serializers.IntegerField(help_text="The AuthSession these tokens belong to.")


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class CredentialEndpoint(APIView):
    """Obtain, refresh and logout take their credential in the body, not a header.

    No authentication classes (a stale Authorization header must not get in the
    way), but a refused credential is still a 401 with a WWW-Authenticate challenge.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthEndpointThrottle]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


def _pair(pair) -> dict:
    return TokenPairOutput({"access": pair.access, "refresh": pair.refresh, "session_id": pair.auth_session.pk}).data


class TokenObtainView(CredentialEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Log in: get an access and a refresh token",
        description="Email and password, plus `otp` (a TOTP or recovery code) for accounts with two-factor "
        "authentication. Repeated failures lock the account and the address out (429 with Retry-After).",
        request=TokenObtainInput,
        responses={200: TokenPairOutput, **ERROR_RESPONSES},
        auth=[],
    )
    def post(self, request):
        data = TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = token_obtain(request=request, **data.validated_data)
        return Response(_pair(pair))


class TokenRefreshView(CredentialEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Rotate: trade a refresh token for a new pair",
        description="The presented refresh token is blacklisted. Presenting it again is refused "
        "and signs the whole session (token family) out.",
        request=RefreshInput,
        responses={200: TokenPairOutput, **ERROR_RESPONSES},
        auth=[],
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = token_refresh(request=request, raw_refresh=data.validated_data["refresh"])
        return Response(_pair(pair))


class LogoutView(CredentialEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Log out: blacklist the refresh token and sign its session out",
        description="Afterwards neither the refresh token nor the session's access tokens are accepted.",
        request=RefreshInput,
        responses={204: None, **ERROR_RESPONSES},
        auth=[],
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        token_logout(raw_refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        trim_whitespace=False, max_length=4096, help_text="Checked by the same validators as the sign-up page."
    )
    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120, help_text="Names the personal workspace."
    )


class SignupOutput(serializers.Serializer):
    email = serializers.EmailField()
    detail = serializers.CharField()


SIGNUP_ACCEPTED = (
    "If this address can be used, a message is on its way to it: follow its link to verify the address, then log in."
)


class SignupView(CredentialEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Sign up: create an account and send the email verification",
        description="Works as the sign-up page: the same password rules, a personal workspace, a welcome email, "
        "and a verification email whose link must be followed before `token/` accepts the account. An address "
        "that already has an account gets the same answer (its owner is emailed instead), as on the page. "
        "Throttled per IP like the other auth endpoints.",
        request=SignupInput,
        responses={202: SignupOutput, 400: BAD_REQUEST, 429: TOO_MANY},
        auth=[],
    )
    def post(self, request):
        data = SignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        user_sign_up(request=request._request, **data.validated_data)
        body = {"email": data.validated_data["email"], "detail": SIGNUP_ACCEPTED}
        return Response(SignupOutput(body).data, status=status.HTTP_202_ACCEPTED)


class MembershipOutput(serializers.Serializer):
    id = serializers.IntegerField(source="organization.id")
    name = serializers.CharField(source="organization.name")
    slug = serializers.CharField(source="organization.slug")
    is_personal = serializers.BooleanField(source="organization.is_personal")
    role = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    organizations = MembershipOutput(many=True)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        summary="The signed-in person and their organizations",
        responses={200: MeOutput, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        user = request.user
        profile = profile_for(user=user)
        body = {
            "id": user.pk,
            "email": user.email,
            "display_name": profile.display_name or "",
            "organizations": membership_list_for_user_by_name(user=user),
        }
        return Response(MeOutput(body).data)
