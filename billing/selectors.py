"""Reads: feature access, grants and usage for pages and APIs."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from djstripe.models import Invoice, Subscription
from rest_framework.exceptions import ValidationError

from accounts.models import Organization, Role
from accounts.selectors.organizations import membership_list_for_user
from billing.cache import ACCESS_CACHE_SECONDS, access_read, access_read_keys, grant_read
from billing.exceptions import MemberRequired
from billing.models import (
    BillingEmail,
    Customer,
    EntitlementGrant,
    Purchase,
    PurchaseStatus,
    SubscriptionState,
    UsageCounter,
)
from billing.money import money_display
from billing.periods import period_bounds
from billing.plans import FEATURES, FREE, PLANS, Feature, FeatureKind
from billing.services.entitlements import GrantSpec, grants_compute, plan_effective


@dataclass(frozen=True)
class Access:
    feature: str
    entitled: bool
    unlimited: bool
    limit: int | None
    used: int
    remaining: int | None
    resets_at: datetime | None

    def allows(self, quantity: int = 1) -> bool:
        return self.entitled and (self.unlimited or (self.remaining or 0) >= quantity)

    @classmethod
    def counted(cls, feature: str, *, used: int, limit: int | None, resets_at: datetime | None) -> "Access":
        """An entitled metered feature's balance (a None limit is unlimited)."""
        return cls(
            feature,
            entitled=True,
            unlimited=limit is None,
            limit=limit,
            used=used,
            remaining=None if limit is None else max(0, limit - used),
            resets_at=resets_at,
        )


def grant_for(*, organization_id: int, feature: str, prefetched: dict | None = None) -> GrantSpec | None:
    """The organization's grant of a feature, or None when its plan lacks it. Cached until a refresh.

    An organization that was never refreshed has no rows yet: it is on Free, so the
    Free plan's grant is computed in memory instead of written from a read.
    """
    read = grant_read(organization_id=organization_id, feature=feature, prefetched=prefetched)
    if read.hit is not None:
        return GrantSpec(**read.hit) if read.hit else None
    row = EntitlementGrant.objects.filter(organization_id=organization_id, feature=feature).first()
    if row is not None:
        grant = GrantSpec(
            feature=feature,
            limit=row.limit,
            period=row.period,
            cycle_start=row.cycle_start,
            cycle_end=row.cycle_end,
            per_member=row.per_member,
            source=row.source,
        )
    elif SubscriptionState.objects.filter(organization_id=organization_id).exists():
        grant = None
    else:
        grant = grants_compute(plan_key=FREE, state=None, staff_grants=[], now=timezone.now()).get(feature)
    read.store(asdict(grant) if grant else {}, ACCESS_CACHE_SECONDS)
    return grant


def counter_user_id(*, feature: str, user_id: int | None) -> int | None:
    """Per-member features are counted per user; the rest per organization."""
    if not FEATURES[Feature(feature)].per_member:
        return None
    if user_id is None:
        raise MemberRequired()
    return user_id


def _access_compute(*, organization_id: int, user_id: int | None, feature: str, now: datetime) -> Access:
    grant = grant_for(organization_id=organization_id, feature=feature)
    if grant is None or grant.limit == 0:
        return Access(feature, entitled=False, unlimited=False, limit=0, used=0, remaining=0, resets_at=None)
    if FEATURES[Feature(feature)].kind == FeatureKind.BOOLEAN:
        return Access(feature, entitled=True, unlimited=True, limit=None, used=0, remaining=None, resets_at=None)
    start, end = period_bounds(period=grant.period, now=now, cycle_start=grant.cycle_start, cycle_end=grant.cycle_end)
    used = (
        UsageCounter.objects.filter(
            organization_id=organization_id, user_id=user_id, feature=feature, period_start=start
        )
        .values_list("used", flat=True)
        .first()
    ) or 0
    return Access.counted(feature, used=used, limit=grant.limit, resets_at=end)


def access_check_cache_keys(*, organization_id: int, user_id: int | None, feature: str) -> list[str]:
    """The cache keys `access_check` will read for this member, or [] while the member is unknown.

    For a request to fetch them ahead, with its authentication (common.cache_prefetch).
    """
    try:
        counter_user = counter_user_id(feature=feature, user_id=user_id)
    except MemberRequired:
        return []  # the signed-in user's: known only once authenticated
    return access_read_keys(organization_id=organization_id, user_id=counter_user, feature=feature)


def access_check(
    *,
    organization_id: int,
    user_id: int | None,
    feature: str,
    now: datetime | None = None,
    cached: bool = True,
    prefetched: dict | None = None,
) -> Access:
    """May this organization (member) use `feature` now, and how much is left.

    Cached for the feature-access API; pass cached=False where money depends on the
    answer (pricing) or for a moment other than now. `prefetched`: cache values the
    request's authentication read ahead (common.cache_prefetch), used if they are the ones needed.
    """
    user_id = counter_user_id(feature=feature, user_id=user_id)
    read = access_read(
        organization_id=organization_id,
        user_id=user_id,
        feature=feature,
        use_cache=cached and now is None,
        prefetched=prefetched,
    )
    if read.hit is not None:
        return Access(**read.hit)
    moment = now or timezone.now()
    access = _access_compute(organization_id=organization_id, user_id=user_id, feature=feature, now=moment)
    timeout = ACCESS_CACHE_SECONDS
    if access.resets_at is not None:
        # Never serve a period's numbers after it has reset.
        timeout = max(1, min(timeout, int((access.resets_at - moment).total_seconds())))
    read.store(asdict(access), timeout)
    return access


def entitlements_for(*, organization_id: int, user_id: int | None, now: datetime | None = None) -> list[Access]:
    """Every feature of the catalogue with the organization's (member's) access to it."""
    moment = now or timezone.now()
    out = []
    for feature, definition in FEATURES.items():
        # Without a member, a per-member feature shows the organization's rights with no usage.
        member = user_id if definition.per_member else None
        out.append(_access_compute(organization_id=organization_id, user_id=member, feature=feature.value, now=moment))
    return out


_PERIOD_WORDS = {"day": "today", "month": "this month", "cycle": "this cycle"}


@dataclass(frozen=True)
class UsageMeter:
    feature: str
    name: str
    used: int
    limit: int | None
    percent: int
    text: str  # "2 of 3 premium articles used this cycle, resets on 14 Dec"


def usage_meters(*, organization_id: int, user_id: int | None, now: datetime | None = None) -> list[UsageMeter]:
    """The metered features the organization has, as meters for the billing page."""
    grants = {g.feature: g for g in EntitlementGrant.objects.filter(organization_id=organization_id)}
    meters = []
    for access in entitlements_for(organization_id=organization_id, user_id=user_id, now=now):
        definition = FEATURES[Feature(access.feature)]
        if definition.kind != FeatureKind.METERED or not access.entitled:
            continue
        grant = grants.get(access.feature)
        period = _PERIOD_WORDS.get(grant.period if grant else "day", "")
        resets = f", resets on {access.resets_at:%-d %b}" if access.resets_at else ""
        if access.unlimited:
            text = f"Unlimited {definition.unit}: {access.used} used {period}"
            percent = 0
        else:
            text = f"{access.used} of {access.limit} {definition.unit} used {period}{resets}"
            percent = min(100, (access.used * 100) // access.limit) if access.limit else 100
        meters.append(UsageMeter(access.feature, definition.name, access.used, access.limit, percent, text))
    return meters


@dataclass(frozen=True)
class BillingOrganization:
    id: int
    name: str
    role: str
    is_admin: bool
    plan_name: str


def billing_organizations_for(*, user, now: datetime | None = None) -> list[BillingOrganization]:
    """The organizations the user belongs to, each with the plan it is on (the pages' switcher)."""
    moment = now or timezone.now()
    memberships = list(membership_list_for_user(user=user))
    states = SubscriptionState.objects.in_bulk([m.organization_id for m in memberships], field_name="organization_id")
    return [
        BillingOrganization(
            id=m.organization_id,
            name=m.organization.name,
            role=m.get_role_display(),
            is_admin=m.role == Role.ADMIN,
            plan_name=PLANS[plan_effective(state=states.get(m.organization_id), now=moment)].name,
        )
        for m in memberships
    ]


def organization_paying_for(*, user, now: datetime | None = None) -> int | None:
    """The id of an organization of the user whose plan is above Free (the oldest such membership), if any."""
    moment = now or timezone.now()
    states = SubscriptionState.objects.filter(organization__memberships__user=user).order_by(
        "organization__memberships__created_at", "organization_id"
    )
    return next((s.organization_id for s in states if plan_effective(state=s, now=moment) != FREE), None)


def customers_for(
    *,
    user=None,
    organization_id: int | None = None,
    status: str | None = None,
    email: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
) -> QuerySet[Customer]:
    """Customers a person (their organizations) or an API key (its organization) may see, filtered.

    Bad dates are refused with a 400 in the error shape.
    """
    queryset = Customer.objects.select_related("organization__subscription_state")
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    else:
        queryset = queryset.filter(organization__memberships__user=user)
    if status == "archived":
        queryset = queryset.filter(archived_at__isnull=False)
    elif status == "none":
        queryset = queryset.filter(archived_at__isnull=True).filter(
            Q(organization__subscription_state__isnull=True) | Q(organization__subscription_state__status="none")
        )
    elif status:
        queryset = queryset.filter(archived_at__isnull=True, organization__subscription_state__status=status)
    if email:
        queryset = queryset.filter(email__iexact=email)
    for name, value, lookup in (("created_after", created_after, "gte"), ("created_before", created_before, "lt")):
        if value:
            moment = parse_datetime(value) or _date_start(value)
            if moment is None:
                raise ValidationError({name: ["Use an ISO date (2026-11-23) or datetime."]})
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)
            queryset = queryset.filter(**{f"created_at__{lookup}": moment})
    return queryset.distinct().order_by("-created_at", "-id")


def _date_start(value: str) -> datetime | None:
    day = parse_date(value)
    return datetime(day.year, day.month, day.day) if day else None


def subscription_known(*, subscription_id: str | None) -> bool:
    """Whether a Stripe subscription has reached the mirror (its webhook was applied)."""
    return bool(subscription_id) and Subscription.objects.filter(id=subscription_id).exists()


def subscriptions_for(*, organization_id: int) -> QuerySet[Subscription]:
    """The organization's subscriptions from dj-stripe's mirror, newest first."""
    return Subscription.objects.filter(customer__subscriber_id=organization_id).order_by("-created")


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    number: str | None
    status: str | None
    currency: str
    amount_due: int
    amount_paid: int
    created: datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None

    @property
    def amount_display(self) -> str:
        return money_display(amount=self.amount_paid or self.amount_due, currency=self.currency or "usd")


def invoices_queryset(*, organization_id: int) -> QuerySet[Invoice]:
    """The organization's invoices in dj-stripe's mirror, newest first (paginate, then `invoice_row`)."""
    return Invoice.objects.filter(customer__subscriber_id=organization_id).order_by("-created", "-id")


def invoice_row(invoice: Invoice) -> InvoiceRow:
    return InvoiceRow(
        id=invoice.id,
        number=invoice.stripe_data.get("number"),
        status=invoice.stripe_data.get("status"),
        currency=invoice.stripe_data.get("currency", ""),
        amount_due=invoice.stripe_data.get("amount_due") or 0,
        amount_paid=invoice.stripe_data.get("amount_paid") or 0,
        created=invoice.created,
        hosted_invoice_url=invoice.stripe_data.get("hosted_invoice_url"),
        invoice_pdf=invoice.stripe_data.get("invoice_pdf"),
    )


def invoices_for(*, organization_id: int, limit: int = 100) -> list[InvoiceRow]:
    """The organization's invoices from dj-stripe's mirror, newest first, with their download links."""
    return [invoice_row(invoice) for invoice in invoices_queryset(organization_id=organization_id)[:limit]]


OWNING_STATUSES = (PurchaseStatus.PAID, PurchaseStatus.PARTIALLY_REFUNDED)
SETTLED_STATUSES = (*OWNING_STATUSES, PurchaseStatus.REFUNDED)


def purchase_open_for_buyer(*, user, anonymous_session_id: str, item_type: str, item_id: str) -> Purchase | None:
    """The buyer's pending purchase of an item: an organization's the user belongs to, or this browser's."""
    pending = Purchase.objects.filter(status=PurchaseStatus.PENDING, item_type=item_type, item_id=item_id)
    if user.is_authenticated:
        pending = pending.filter(organization__memberships__user=user)
    elif anonymous_session_id:
        pending = pending.filter(organization__isnull=True, anonymous_session_id=anonymous_session_id)
    else:
        return None
    return pending.order_by("-created_at").first()


def purchases_for(*, organization_id: int, limit: int = 50) -> QuerySet[Purchase]:
    """The organization's settled one-time purchases with their refunds, newest first (two queries)."""
    return (
        Purchase.objects.filter(organization_id=organization_id, status__in=SETTLED_STATUSES)
        .prefetch_related("refunds")
        .order_by("-paid_at", "-id")[:limit]
    )


def purchased_item_ids(
    *, item_type: str, organization_id: int | None = None, anonymous_session_id: str = ""
) -> set[str]:
    """Ids of the items of this type the organization (or an anonymous browser session) owns.

    A paid or partly refunded purchase gives the item; a fully refunded one no longer does.
    """
    if organization_id is None and not anonymous_session_id:
        return set()
    owner = (
        Q(organization_id=organization_id)
        if organization_id is not None
        else Q(organization__isnull=True, anonymous_session_id=anonymous_session_id)
    )
    return set(
        Purchase.objects.filter(owner, item_type=item_type, status__in=OWNING_STATUSES).values_list(
            "item_id", flat=True
        )
    )


def purchases_paid_count_by_item(
    *, item_type: str, item_ids: Iterable[str], start: datetime, end: datetime
) -> dict[str, int]:
    """{item id: purchases of it paid in [start, end)}: paid, then perhaps refunded; free ones too."""
    return dict(
        Purchase.objects.filter(
            item_type=item_type,
            item_id__in=list(item_ids),
            paid_at__gte=start,
            paid_at__lt=end,
            status__in=(*OWNING_STATUSES, PurchaseStatus.REFUNDED),
        )
        .values_list("item_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def purchases_owned_recent(*, organization_id: int, limit: int = 20) -> list[Purchase]:
    """What the organization owns through one-time purchases, most recently paid first."""
    return list(
        Purchase.objects.filter(organization_id=organization_id, status__in=OWNING_STATUSES).order_by(
            "-paid_at", "-id"
        )[:limit]
    )


@dataclass(frozen=True)
class Viewer:
    """Who a page that sells things speaks for: the customer who buys and owns.

    Signed in, one of the user's organizations (`organization`: the one chosen with
    ?org=<id>, else their primary one, as the Buy endpoint picks); signed out, the browser
    session's anonymous buyer id (empty until the visitor first buys).
    """

    organization: Organization | None = None
    organizations: tuple[Organization, ...] = ()  # all the user's organizations, primary first
    anonymous_session_id: str = ""

    @property
    def member_of(self) -> frozenset[int]:
        return frozenset(organization.pk for organization in self.organizations)

    def owned_item_ids(self, *, item_type: str) -> set[str]:
        """What this viewer bought of this item type (one query)."""
        if self.organization is not None:
            return purchased_item_ids(item_type=item_type, organization_id=self.organization.pk)
        return purchased_item_ids(item_type=item_type, anonymous_session_id=self.anonymous_session_id)


def viewer_for(*, user, anonymous_session_id: str = "", organization_id: str | None = None) -> Viewer:
    """The viewer behind a request: one query for a signed-in user, none for a visitor.

    An `organization_id` the user is not a member of is a 404, as for one that does not exist.
    """
    if not user.is_authenticated:
        return Viewer(anonymous_session_id=anonymous_session_id)
    organizations = tuple(membership.organization for membership in membership_list_for_user(user=user))
    if organization_id:
        chosen = next((org for org in organizations if str(org.pk) == str(organization_id).strip()), None)
        if chosen is None:
            raise Http404("No such organization.")
    else:
        chosen = organizations[0] if organizations else None
    return Viewer(organization=chosen, organizations=organizations)


def billing_data_for_person(*, user) -> dict:
    """A person's billing data for their GDPR export: what they bought (with refunds) and the billing
    emails sent to their address. Amounts in minor units with their currency."""
    purchases = Purchase.objects.filter(buyer=user).prefetch_related("refunds").order_by("created_at", "id")
    return {
        "purchases": [
            {
                "id": purchase.pk,
                "organization_id": purchase.organization_id,
                "item_type": purchase.item_type,
                "item_id": purchase.item_id,
                "item_name": purchase.item_name,
                "list_amount": purchase.list_amount,
                "discount_amount": purchase.discount_amount,
                "amount": purchase.amount,
                "currency": purchase.currency,
                "status": purchase.status,
                "refunded_amount": purchase.refunded_amount,
                "created_at": purchase.created_at,
                "paid_at": purchase.paid_at,
                "refunds": [
                    {"amount": refund.amount, "reason": refund.reason, "created_at": refund.created_at}
                    for refund in purchase.refunds.all()
                ],
            }
            for purchase in purchases
        ],
        "emails_received": [
            {
                "template": email.template,
                "status": email.status,
                "created_at": email.created_at,
                "sent_at": email.sent_at,
            }
            for email in BillingEmail.objects.filter(recipient__iexact=user.email).order_by("created_at", "id")
        ],
    }
