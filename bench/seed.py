"""Benchmark fixture data: one Premium organization with an API key (run through `manage.py shell`)."""

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from accounts.services.api_keys import api_key_create
from billing.models import StaffQuotaGrant, SubscriptionState
from billing.services.entitlements import entitlements_refresh


@transaction.atomic
def bench_seed() -> dict:
    now = timezone.now()
    user, _ = User.objects.get_or_create(email="bench@plateau.test")
    organization, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "email": "bench@plateau.test"}
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
    SubscriptionState.objects.update_or_create(
        organization=organization,
        defaults={
            "plan": "premium",
            "status": "active",
            "current_period_start": now - timedelta(days=1),
            "current_period_end": now + timedelta(days=29),
        },
    )
    # Enough quota that the measured track-usage calls are never refused.
    StaffQuotaGrant.objects.get_or_create(
        organization=organization,
        feature="premium_article",
        reason="benchmark",
        defaults={"quantity": 2_000_000_000, "expires_at": now + timedelta(days=365)},
    )
    entitlements_refresh(organization=organization)
    created = api_key_create(organization=organization, name="bench", created_by=user)
    return {"customer": organization.pk, "api_key": created.secret, "jwt": bench_access_token(user=user)}


def bench_access_token(*, user: User) -> str:
    """An access token as a login issues it (a live session family, the password's fingerprint),
    valid for two hours so a whole run uses one token."""
    from rest_framework_simplejwt.settings import api_settings as jwt_settings
    from rest_framework_simplejwt.tokens import RefreshToken
    from rest_framework_simplejwt.utils import get_md5_hash_password

    from accounts.models import AuthSession
    from accounts.services.sessions import auth_session_start
    from accounts.services.tokens import FAMILY_CLAIM

    family = uuid.uuid4().hex
    auth_session_start(user=user, kind=AuthSession.Kind.JWT, ip_address="127.0.0.1", user_agent="bench", family=family)
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = family
    refresh[jwt_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    access = refresh.access_token
    access.set_exp(lifetime=timedelta(hours=2))
    return str(access)


def bench_webhook_seed(*, base_url: str, subscribers: int = 1) -> dict:
    """The catalogue in the sandbox, its webhooks pointed at the served site, paying subscribers."""
    import stripe
    from django.conf import settings

    from billing.services.catalogue import catalogue_sync
    from billing.services.checkout import price_for_lookup_key
    from billing.services.customers import customer_ensure
    from billing.webhooks import webhook_endpoint_register

    stripe.api_key, stripe.api_base = settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE
    catalogue_sync()
    webhook_endpoint_register(base_url=base_url)
    # New organizations per run: each run has a fresh sandbox, unknown to earlier customers.
    price = price_for_lookup_key(lookup_key="premium_monthly")
    subscriptions = []
    for number in range(subscribers):
        suffix = uuid.uuid4().hex[:8]
        organization = Organization.objects.create(
            slug=f"bench-webhooks-{suffix}", name=f"Bench webhooks {number}", email=f"hooks-{suffix}@plateau.test"
        )
        customer = customer_ensure(organization=organization)
        payment_method = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.stripe_customer_id)
        subscription = stripe.Subscription.create(
            customer=customer.stripe_customer_id,
            items=[{"price": price.id}],
            default_payment_method=payment_method.id,
        )
        subscriptions.append(subscription.id)
    return {"subscriptions": subscriptions}


def bench_session_cookie() -> str:
    """A signed-in browser's session cookie for the bench user (`name=value`), as a login leaves it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    user = User.objects.get(email="bench@plateau.test")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def bench_purchase_seed(*, base_url: str, run_id: str, count: int) -> dict:
    """Templates to buy in the mixed workload (one per purchase: a buyer owns an item once), and the
    site's webhook endpoint in the run's sandbox."""
    import stripe
    from django.conf import settings
    from django.utils import timezone

    from billing.webhooks import webhook_endpoint_register
    from marketplace.models import PromptTemplate

    stripe.api_key, stripe.api_base = settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE
    webhook_endpoint_register(base_url=base_url)
    seller, _ = Organization.objects.get_or_create(
        slug="bench-mixed-seller", defaults={"name": "Bench mixed seller", "email": "mixed-seller@plateau.test"}
    )
    now = timezone.now()
    templates = [
        PromptTemplate(
            seller=seller,
            seller_name=seller.name,
            title=f"Mixed workload template {run_id} {number}",
            slug=f"mixed-{run_id}-{number}",
            description="A template the mixed workload buys.",
            category="writing",
            body="Write about {{topic}}.",
            variables=[{"name": "topic", "type": "text"}],
            price_amount=500 + number % 7 * 100,
            currency="usd",
            status="published",
            visibility="public",
            published_at=now,
        )
        for number in range(count)
    ]
    PromptTemplate.objects.bulk_create(templates, batch_size=1000)
    # A buyer of this run: its Stripe customer is created in this run's (fresh) sandbox.
    buyer = User.objects.create(email=f"mixed-buyer-{run_id}@plateau.test")
    buyer.set_password(uuid.uuid4().hex)
    buyer.save()
    organization = Organization.objects.create(
        slug=f"mixed-buyer-{run_id}", name=f"Mixed buyer {run_id}", email=buyer.email
    )
    Membership.objects.create(user=buyer, organization=organization, role=Role.ADMIN)
    return {"slugs": [template.slug for template in templates], "jwt": bench_access_token(user=buyer)}


def bench_events_seed() -> dict:
    """An organization's API key that may send product events (`events:write`)."""
    user, _ = User.objects.get_or_create(email="bench-events@plateau.test")
    organization, _ = Organization.objects.get_or_create(
        slug="bench-events", defaults={"name": "Bench events", "email": user.email}
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
    created = api_key_create(organization=organization, name="bench events", created_by=user, scopes=["events:write"])
    return {"api_key": created.secret}
