"""The home page: a welcome for visitors; for a member, what their current organization has.

It lives in config because it shows every app's things: it reads them through billing's
selectors only (plan, quotas, what was bought), never content's or marketplace's models.
"""

from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role
from accounts.selectors.organizations import membership_current, organization_get_for_member
from billing.models import ItemType
from billing.selectors import billing_organizations_for, purchases_owned_recent, usage_meters

# Where an owned item opens (content and marketplace key their items by slug).
ITEM_URL_NAMES = {
    ItemType.ARTICLE: "content:lesson_detail",
    ItemType.QUIZ: "content:quiz_detail",
    ItemType.PROMPT_TEMPLATE: "marketplace:detail",
}
LEARNING = (ItemType.ARTICLE, ItemType.QUIZ)


def _owned(purchase) -> dict:
    return {
        "name": purchase.item_name,
        "kind": ItemType(purchase.item_type).label,
        "url": reverse(ITEM_URL_NAMES[purchase.item_type], args=[purchase.item_id]),
        "paid_at": purchase.paid_at,
    }


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home.html")
    # The same organization as the header's (?org=, else the one used last); another's is a 404.
    requested = request.GET.get("org")
    if requested:
        organization_get_for_member(user=request.user, organization_id=requested)
    membership = membership_current(user=request.user, requested_organization_id=requested)
    if membership is None:
        return render(request, "home.html")
    organization = membership.organization
    plan_name = next(
        (org.plan_name for org in billing_organizations_for(user=request.user) if org.id == organization.pk), ""
    )
    owned = [_owned(p) for p in purchases_owned_recent(organization_id=organization.pk)]
    context = {
        "organization": organization,
        "plan_name": plan_name,
        "meters": usage_meters(organization_id=organization.pk, user_id=request.user.pk),
        "recent_purchases": owned[:5],
        "learning": [item for item in owned if item["kind"] in {t.label for t in LEARNING}],
        "templates": [item for item in owned if item["kind"] == ItemType.PROMPT_TEMPLATE.label],
        "is_admin": membership.role == Role.ADMIN,
    }
    return render(request, "home_member.html", context)
