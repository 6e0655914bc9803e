"""Admin for people and organizations. Staff edits are recorded by django-auditlog
(see accounts.auditing); invitations are created by org admins, never by hand here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Invitation, Membership, Organization, Profile, User
from accounts.services.sessions import auth_sessions_end_on_password_change
from accounts.services.users import user_create_defaults


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization", "user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "profile__display_name"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [ProfileInline, MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_inlines(self, request, obj):
        # A new user gets their profile and personal organization from the service below.
        return self.inlines if obj else []

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            # A password set by staff ends every session of the user, API tokens included.
            auth_sessions_end_on_password_change(user=self.get_object(request, id))
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            user_create_defaults(user=obj)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "email", "is_personal", "created_at"]
    list_filter = ["is_personal"]
    search_fields = ["name", "slug", "email"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "organization",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role", "accepted_at", "revoked_at"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization", "invited_by"]
    exclude = ["token_hash"]
    readonly_fields = ["organization", "email", "invited_by", "created_at", "accepted_at"]

    def has_add_permission(self, request):
        return False
