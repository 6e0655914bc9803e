"""/api/v1/orgs/<org_id>/api-keys/: an organization's API keys; and the key's own view of itself."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import HasApiKey
from accounts.models import ApiKey
from accounts.reauthentication import api_require_recent_authentication
from accounts.selectors.api_keys import api_key_list
from accounts.selectors.organizations import organization_get_for_member
from accounts.services.api_keys import MAX_SCOPES, SCOPE_PATTERN, api_key_create, api_key_revoke
from common.pagination import DefaultPagination, paginated_response
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED


class ApiKeyOutput(serializers.ModelSerializer):
    organization_id = serializers.IntegerField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "organization_id",
            "name",
            "prefix",
            "scopes",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]


class ApiKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.RegexField(SCOPE_PATTERN, max_length=64), required=False, default=list, max_length=MAX_SCOPES
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The full key. Shown only in this response; store it now.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class ApiKeyListCreateView(APIView):
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["api keys"],
        summary="List the organization's API keys",
        responses={200: ApiKeyOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, org_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        return paginated_response(
            request=request,
            view=self,
            items=api_key_list(organization=organization),
            serialize=lambda page: ApiKeyOutput(page, many=True).data,
        )

    @extend_schema(
        tags=["api keys"],
        summary="Create an API key (organization admins); the full key is in this response only",
        description="Needs a recent login (5 minutes, REAUTHENTICATION_TIMEOUT_SECONDS): a token from a session "
        "opened earlier gets 403 `reauthentication_required`.",
        request=ApiKeyCreateInput,
        responses={201: ApiKeyCreatedOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, org_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        api_require_recent_authentication(request)
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = api_key_create(organization=organization, created_by=request.user, **data.validated_data)
        created.api_key.key = created.secret
        return Response(ApiKeyCreatedOutput(created.api_key).data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeView(APIView):
    @extend_schema(
        tags=["api keys"],
        summary="Revoke an API key (organization admins)",
        request=None,
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, org_id: int, key_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        api_key = api_key_list(organization=organization).filter(pk=key_id).first()
        if api_key is None:
            raise Http404("No such API key.")
        api_key_revoke(api_key=api_key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeySelfOutput(serializers.Serializer):
    prefix = serializers.CharField()
    name = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    organization_id = serializers.IntegerField()
    organization_name = serializers.CharField(source="organization.name")
    expires_at = serializers.DateTimeField(allow_null=True)


class ApiKeySelfView(APIView):
    """Lets an SDK check its key (and learn its organization) without side effects."""

    permission_classes = [HasApiKey]

    @extend_schema(
        tags=["api keys"],
        summary="The API key this request was made with",
        auth=[{"ApiKeyAuth": []}],
        responses={200: ApiKeySelfOutput, 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request):
        return Response(ApiKeySelfOutput(request.auth).data)
