"""Billing's reactions to account events (allauth's signals).

accounts must not import billing, so billing listens instead of being called.
"""

from allauth.account.signals import user_signed_up

from accounts.selectors.organizations import membership_primary
from billing.anonymous import SESSION_FIELD, anonymous_buyer_id
from billing.services.purchases import purchases_attach_anonymous


def purchases_attach_on_sign_up(sender, request, user, **kwargs):
    """What this browser bought before signing up becomes the new account's (its personal organization's)."""
    if request is None:
        return
    anonymous_id = anonymous_buyer_id(request.session)
    membership = membership_primary(user=user)
    if not anonymous_id or membership is None:
        return
    purchases_attach_anonymous(
        anonymous_session_id=anonymous_id, organization=membership.organization, buyer_id=user.pk
    )
    del request.session[SESSION_FIELD]


def connect() -> None:
    user_signed_up.connect(purchases_attach_on_sign_up, dispatch_uid="billing:purchases_attach_on_sign_up")
