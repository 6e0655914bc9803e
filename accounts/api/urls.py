from django.urls import path

from accounts.api import api_keys, auth, gdpr, organizations, sessions

app_name = "accounts_api"

urlpatterns = [
    path("auth/signup/", auth.SignupView.as_view(), name="signup"),
    path("auth/token/", auth.TokenObtainView.as_view(), name="token_obtain"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("auth/me/", auth.MeView.as_view(), name="me"),
    path("auth/sessions/", sessions.SessionListView.as_view(), name="sessions"),
    path("auth/sessions/revoke-all/", sessions.SessionRevokeAllView.as_view(), name="sessions_revoke_all"),
    path("auth/sessions/<int:session_id>/revoke/", sessions.SessionRevokeView.as_view(), name="session_revoke"),
    path("auth/api-key/", api_keys.ApiKeySelfView.as_view(), name="api_key_self"),
    path("orgs/<int:org_id>/api-keys/", api_keys.ApiKeyListCreateView.as_view(), name="org_api_keys"),
    path(
        "orgs/<int:org_id>/api-keys/<int:key_id>/revoke/",
        api_keys.ApiKeyRevokeView.as_view(),
        name="org_api_key_revoke",
    ),
    # Organization members and invitations, GDPR (accounts.api.organizations, accounts.api.gdpr).
    path("orgs/<int:org_id>/members/", organizations.OrganizationMemberListApi.as_view(), name="org_members"),
    path(
        "orgs/<int:org_id>/members/<int:membership_id>/",
        organizations.OrganizationMemberDetailApi.as_view(),
        name="org_member",
    ),
    path(
        "orgs/<int:org_id>/invitations/",
        organizations.OrganizationInvitationListApi.as_view(),
        name="org_invitations",
    ),
    path(
        "orgs/<int:org_id>/invitations/<int:invitation_id>/",
        organizations.OrganizationInvitationDetailApi.as_view(),
        name="org_invitation",
    ),
    path("invitations/accept/", organizations.InvitationAcceptApi.as_view(), name="invitation_accept"),
    path("account/export/", gdpr.AccountExportApi.as_view(), name="account_export"),
    path("account/", gdpr.AccountDeleteApi.as_view(), name="account_delete"),
]
