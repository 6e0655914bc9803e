"""GDPR over the API: GET /api/v1/account/export and DELETE /api/v1/account/.

Both act on the person signed in, so a machine's API key (which speaks for an
organization) is not accepted here.
"""

from django.contrib.auth import logout
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from accounts.services.gdpr import user_delete_account, user_export_data
from common.schema import BAD_REQUEST, FORBIDDEN, UNAUTHENTICATED


class IsPersonNotApiKey(BasePermission):
    message = "This endpoint acts on a person's account; use a session or a JWT, not an API key."

    def has_permission(self, request, view):
        return not isinstance(request.auth, ApiKey)


class AccountDeleteInputSerializer(serializers.Serializer):
    confirm_email = serializers.EmailField(help_text="The account's email address, to confirm the deletion.")
    password = serializers.CharField(
        style={"input_type": "password"}, help_text="The account's password: a stolen token alone cannot erase it."
    )

    def validate_confirm_email(self, value):
        if value.strip().lower() != self.context["user"].email.lower():
            raise serializers.ValidationError("This is not the email address of your account.")
        return value

    def validate_password(self, value):
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError("The password is not correct.")
        return value


class AccountExportApi(APIView):
    permission_classes = [IsAuthenticated, IsPersonNotApiKey]

    @extend_schema(
        operation_id="account_export",
        tags=["account"],
        responses={200: OpenApiTypes.OBJECT, 401: UNAUTHENTICATED, 403: FORBIDDEN},
        summary="Download all data Plateau holds about you (GDPR export) as one JSON document",
    )
    def get(self, request):
        response = Response(user_export_data(user=request.user))
        response["Content-Disposition"] = f'attachment; filename="plateau-data-{request.user.pk}.json"'
        return response


class AccountDeleteApi(APIView):
    permission_classes = [IsAuthenticated, IsPersonNotApiKey]

    @extend_schema(
        operation_id="account_delete",
        request=AccountDeleteInputSerializer,
        tags=["account"],
        responses={204: None, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN},
        summary="Delete your account: personal data erased, memberships removed, an audit entry kept",
    )
    def delete(self, request):
        data = AccountDeleteInputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        user_delete_account(user=request.user)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
