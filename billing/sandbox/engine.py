"""The sandbox's Stripe account: every resource's behaviour, over one store."""

from .catalog import CatalogMixin
from .checkout import CheckoutMixin
from .core import SandboxCore
from .invoices import InvoicesMixin
from .payments import PaymentsMixin
from .subscriptions import SubscriptionsMixin


class Sandbox(CheckoutMixin, SubscriptionsMixin, InvoicesMixin, PaymentsMixin, CatalogMixin, SandboxCore):
    """One Stripe test-mode account. Methods take Stripe's decoded parameters and return Stripe objects."""
