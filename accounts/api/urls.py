from django.urls import path

from accounts.api import gdpr, organizations

app_name = "accounts_api"

urlpatterns = [
    # Organization members and invitations, GDPR (accounts.api.organizations, accounts.api.gdpr).
    path("orgs/<int:org_id>/members/", organizations.OrganizationMemberListApi.as_view(), name="org_members"),
    path(
        "orgs/<int:org_id>/members/<int:membership_id>/",
        organizations.OrganizationMemberDetailApi.as_view(),
        name="org_member",
    ),
    path("orgs/<int:org_id>/invitations/", organizations.OrganizationInvitationListApi.as_view(), name="org_invitations"),
    path(
        "orgs/<int:org_id>/invitations/<int:invitation_id>/",
        organizations.OrganizationInvitationDetailApi.as_view(),
        name="org_invitation",
    ),
    path("invitations/accept/", organizations.InvitationAcceptApi.as_view(), name="invitation_accept"),
    path("account/export/", gdpr.AccountExportApi.as_view(), name="account_export"),
    path("account/", gdpr.AccountDeleteApi.as_view(), name="account_delete"),
]
