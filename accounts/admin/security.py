"""Admin for the security records: API keys, signed-in sessions, login history.

These rows are written by services (key creation, logins, rotation), so the admin
shows them read-only; the one thing staff may do is revoke.
"""

from django.contrib import admin, messages

from accounts.models import ApiKey, AuthSession, LoginEvent
from accounts.services.api_keys import api_key_revoke
from accounts.services.sessions import auth_session_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix", "organization__name", "created_by__email"]
    list_select_related = ["organization", "created_by"]
    readonly_fields = [f.name for f in ApiKey._meta.fields if f.name != "key_hash"]
    exclude = ["key_hash"]
    actions = ["revoke_keys"]

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "ip_address", "user_agent", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", "revoked_at"]
    search_fields = ["user__email", "ip_address", "user_agent"]
    list_select_related = ["user"]
    exclude = ["session_key", "current_jti"]
    actions = ["revoke_sessions"]

    @admin.action(description="Revoke selected sessions")
    def revoke_sessions(self, request, queryset):
        count = 0
        for auth_session in queryset.filter(revoked_at__isnull=True):
            auth_session_revoke(auth_session=auth_session)
            count += 1
        self.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "email", "success", "method", "reason", "ip_address", "user_agent"]
    list_filter = ["success", "method"]
    search_fields = ["email", "ip_address"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False
