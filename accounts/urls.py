from django.urls import path

from accounts.views import api_keys, security

app_name = "accounts"

urlpatterns = [
    path("security/", security.security, name="security"),
    path("security/sessions/<int:session_id>/revoke/", security.session_revoke, name="session_revoke"),
    path("security/sessions/revoke-all/", security.session_revoke_all, name="session_revoke_all"),
    path("api-keys/", api_keys.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
]
