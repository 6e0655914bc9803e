from django.urls import path
from django.views.generic import RedirectView

from accounts.views import api_keys, gdpr, organizations, profile, security

app_name = "accounts"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:profile"), name="index"),
    path("profile/", profile.profile, name="profile"),
    path("organizations/", organizations.organizations, name="organizations"),
    path("organizations/switch/", organizations.organization_switch, name="organization_switch"),
    path("organizations/<int:org_id>/", organizations.organization, name="organization"),
    path("organizations/<int:org_id>/rename/", organizations.organization_rename_view, name="organization_rename"),
    path(
        "organizations/<int:org_id>/invitations/",
        organizations.invitation_create_view,
        name="invitation_create",
    ),
    path(
        "organizations/<int:org_id>/invitations/<int:invitation_id>/revoke/",
        organizations.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path(
        "organizations/<int:org_id>/members/<int:membership_id>/role/",
        organizations.membership_role_view,
        name="membership_role",
    ),
    path(
        "organizations/<int:org_id>/members/<int:membership_id>/remove/",
        organizations.membership_remove_view,
        name="membership_remove",
    ),
    path("invitations/<str:token>/", organizations.invitation_accept_view, name="invitation_accept"),
    path("data/", gdpr.data, name="data"),
    path("data/export/", gdpr.data_export, name="data_export"),
    path("data/delete/", gdpr.account_delete, name="account_delete"),
    path("security/", security.security, name="security"),
    path("security/sessions/<int:session_id>/revoke/", security.session_revoke, name="session_revoke"),
    path("security/sessions/revoke-all/", security.session_revoke_all, name="session_revoke_all"),
    path("api-keys/", api_keys.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
]
