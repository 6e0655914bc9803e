"""DRF permissions for staff APIs: being staff is not enough, the named permission is needed.

Staff get rights through groups in the admin (/admin/auth/group/), e.g. a "Finance"
group holding `accounts.view_business_metrics`. Superusers hold every permission.
"""

from rest_framework.permissions import BasePermission

# Reading business metrics (revenue, customers' lifetime value) across all organizations.
VIEW_BUSINESS_METRICS = "accounts.view_business_metrics"


class StaffWithPermission(BasePermission):
    """Active staff holding the view's `staff_permission` (a "app_label.codename" string)."""

    def has_permission(self, request, view):
        user = request.user
        required = getattr(view, "staff_permission", None)
        if required is None:
            raise AssertionError(f"{type(view).__name__} uses StaffWithPermission without a staff_permission.")
        return bool(user and user.is_authenticated and user.is_active and user.is_staff and user.has_perm(required))
