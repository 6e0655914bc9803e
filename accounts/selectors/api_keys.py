from django.db.models import QuerySet

from accounts.models import ApiKey, Organization


def api_key_list(*, organization: Organization) -> QuerySet[ApiKey]:
    """All keys of the organization, newest first; revoked ones stay listed as revoked."""
    return ApiKey.objects.filter(organization=organization).select_related("created_by").order_by("-created_at", "-id")
