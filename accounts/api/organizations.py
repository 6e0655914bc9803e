"""Org-scoped API for members and invitations: /api/v1/orgs/<org_id>/members|invitations/.

Every view first resolves the organization for the caller; a non-member gets the same
404 as for an organization that does not exist. The services decide what a member may
change (only admins manage; an org always keeps an admin).
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Invitation, Membership, Role
from accounts.selectors.organizations import (
    invitation_get_for_member,
    invitation_list_open,
    membership_get_for_member,
    membership_list,
    organization_get_for_member,
)
from accounts.services.organizations import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_remove,
    membership_role_change,
)
from common.pagination import DefaultPagination, paginated_response
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error

CONFLICT = error("Refused by an organization rule: last admin, already a member, personal organization.")
GONE = error("The invitation is invalid, expired, revoked or already used.")


class MemberOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "role", "created_at"]


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutputSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=Invitation._meta.get_field("email").max_length)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.BUYER)


class InvitationAcceptInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


def _paginated(request, view, queryset, serializer_class):
    return paginated_response(
        request=request, view=view, items=queryset, serialize=lambda page: serializer_class(page, many=True).data
    )


class OrganizationMemberListApi(APIView):
    pagination_class = DefaultPagination

    @extend_schema(
        operation_id="org_members_list",
        tags=["organizations"],
        responses={200: MemberOutputSerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
        summary="List the members of an organization you belong to",
    )
    def get(self, request, org_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        return _paginated(request, self, membership_list(organization=organization), MemberOutputSerializer)


class OrganizationMemberDetailApi(APIView):
    @extend_schema(
        operation_id="org_members_role_change",
        request=RoleInputSerializer,
        tags=["organizations"],
        responses={
            200: MemberOutputSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        summary="Change a member's role (org admins only)",
    )
    def patch(self, request, org_id: int, membership_id: int):
        membership = membership_get_for_member(user=request.user, organization_id=org_id, membership_id=membership_id)
        data = RoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_role_change(membership=membership, role=data.validated_data["role"], actor=request.user)
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(
        operation_id="org_members_remove",
        tags=["organizations"],
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        summary="Remove a member (org admins), or leave (your own membership)",
    )
    def delete(self, request, org_id: int, membership_id: int):
        membership = membership_get_for_member(user=request.user, organization_id=org_id, membership_id=membership_id)
        membership_remove(membership=membership, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationInvitationListApi(APIView):
    pagination_class = DefaultPagination

    @extend_schema(
        operation_id="org_invitations_list",
        tags=["organizations"],
        responses={200: InvitationOutputSerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
        summary="List open invitations of an organization you belong to",
    )
    def get(self, request, org_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        return _paginated(request, self, invitation_list_open(organization=organization), InvitationOutputSerializer)

    @extend_schema(
        operation_id="org_invitations_create",
        request=InvitationInputSerializer,
        tags=["organizations"],
        responses={
            201: InvitationOutputSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        summary="Invite someone by email (org admins only); the link is emailed to them",
    )
    def post(self, request, org_id: int):
        organization = organization_get_for_member(user=request.user, organization_id=org_id)
        data = InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _ = invitation_create(organization=organization, actor=request.user, **data.validated_data)
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class OrganizationInvitationDetailApi(APIView):
    @extend_schema(
        operation_id="org_invitations_revoke",
        tags=["organizations"],
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
        summary="Revoke an invitation (org admins only)",
    )
    def delete(self, request, org_id: int, invitation_id: int):
        invitation = invitation_get_for_member(user=request.user, organization_id=org_id, invitation_id=invitation_id)
        invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(APIView):
    @extend_schema(
        operation_id="invitations_accept",
        tags=["organizations"],
        request=InvitationAcceptInputSerializer,
        responses={
            201: inline_serializer(
                "InvitationAccepted",
                {"organization_id": serializers.IntegerField(), "role": serializers.CharField()},
            ),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: error("The invitation was sent to another email address."),
            409: CONFLICT,
            410: GONE,
        },
        summary="Accept an invitation with the token from its email link",
    )
    def post(self, request):
        data = InvitationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = invitation_accept(token=data.validated_data["token"], user=request.user)
        return Response(
            {"organization_id": membership.organization_id, "role": membership.role}, status=status.HTTP_201_CREATED
        )
