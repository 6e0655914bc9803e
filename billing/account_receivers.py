"""Billing's reactions to account events (allauth's and Django's auth signals, and the GDPR hooks).

accounts must not import billing, so billing listens instead of being called.
"""

import logging

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in

from accounts.errors import AccountDeletionFailed
from accounts.models import Membership, Organization, User
from accounts.selectors.organizations import membership_primary
from accounts.services.gdpr import account_deletion_step_register, gdpr_export_section_register
from accounts.services.organizations import membership_mark_used
from billing import gateway
from billing.anonymous import SESSION_FIELD, anonymous_buyer_id
from billing.selectors import billing_data_for_person, organization_paying_for
from billing.services.emails import welcome_email_queue
from billing.services.purchases import purchases_attach_anonymous
from billing.services.revenue_rollups import revenue_rollups_organization_forget
from billing.services.subscription_changes import organization_subscriptions_end

logger = logging.getLogger(__name__)


def purchases_attach_on_account(sender, request, user, **kwargs):
    """What this browser bought while signed out becomes the account's (its primary organization's).

    Runs when a visitor signs up and when they sign in to an account they already had:
    Django keeps the session's data across the login, so the anonymous buyer id is still
    there. A sign-up sends both signals; the first that finds the organization attaches.
    """
    if request is None or not hasattr(request, "session"):
        return
    anonymous_id = anonymous_buyer_id(request.session)
    if not anonymous_id:
        return
    membership = membership_primary(user=user)
    if membership is None:
        return
    purchases_attach_anonymous(
        anonymous_session_id=anonymous_id, organization=membership.organization, buyer_id=user.pk
    )
    del request.session[SESSION_FIELD]


def welcome_on_sign_up(sender, request, user, **kwargs):
    """allauth's `user_signed_up` (the sign-up page and `POST /api/v1/auth/signup/` alike): queue the welcome email.

    Once per user whatever happens (its business key): a second signal or a replay queues nothing.
    """
    membership = membership_primary(user=user)
    welcome_email_queue(user=user, organization=membership.organization if membership else None)


def organization_land_on_paying(sender, request, user, **kwargs):
    """A member who never chose an organization lands, after sign-in, on one that pays
    (e.g. their company's Premium) rather than on their personal Free one."""
    if Membership.objects.filter(user=user, last_used_at__isnull=False).exists():
        return
    paying = organization_paying_for(user=user)
    if paying is not None:
        membership_mark_used(user=user, organization_id=paying, force=True)


def subscriptions_end_on_account_deletion(*, user: User, organizations_closing: list[Organization]) -> dict | None:
    """An account deletion: the organizations left with no member stop paying at once.

    An organization that keeps members (a successor becomes admin) keeps its subscription:
    it is theirs. If Stripe cannot be reached the deletion is refused and nothing changes.
    """
    cancelled = []
    for organization in organizations_closing:
        try:
            cancelled += organization_subscriptions_end(organization=organization)
        except gateway.StripeError as error:
            logger.warning("account deletion of user %s refused: Stripe failed: %s", user.pk, error)
            raise AccountDeletionFailed(
                "Your subscription could not be cancelled right now, so your account was not deleted. "
                "Please try again in a few minutes."
            ) from error
    if not cancelled:
        return None
    notice = f"{len(cancelled)} subscription(s) of the organizations only you belonged to were cancelled."
    return {"subscriptions_cancelled": cancelled, "notice": notice}


def revenue_rollups_on_account_deletion(*, user: User, organizations_closing: list[Organization]) -> None:
    """The personal organizations about to be deleted leave billing's paying-customer and cohort counts."""
    for organization in organizations_closing:
        if organization.is_personal:
            revenue_rollups_organization_forget(organization_id=organization.pk)


def connect() -> None:
    user_logged_in.connect(organization_land_on_paying, dispatch_uid="billing:organization_land_on_paying")
    user_signed_up.connect(purchases_attach_on_account, dispatch_uid="billing:purchases_attach_on_sign_up")
    user_signed_up.connect(welcome_on_sign_up, dispatch_uid="billing:welcome_on_sign_up")
    user_logged_in.connect(purchases_attach_on_account, dispatch_uid="billing:purchases_attach_on_login")
    account_deletion_step_register(name="billing", step=subscriptions_end_on_account_deletion)
    # After the step above, which may record the cancellations.
    account_deletion_step_register(name="billing-revenue-rollups", step=revenue_rollups_on_account_deletion)
    gdpr_export_section_register(section="billing", export=lambda user: billing_data_for_person(user=user))
