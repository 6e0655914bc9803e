"""Creating the catalogue in Stripe (or the sandbox) from billing.plans, idempotently."""

from djstripe.models import Price, Product

from billing import gateway
from billing.plans import PLANS, PlanDef


def product_id_for(plan: PlanDef) -> str:
    return f"plateau_{plan.key}"


def catalogue_sync() -> list[str]:
    """Make Stripe's products and prices match the catalogue; returns what was done.

    Products have fixed ids; prices are found by lookup key. A price whose amount,
    currency or interval changed is replaced (Stripe prices are immutable): the new one
    takes the lookup key over and the old one is deactivated. Running it again with no
    change in the catalogue creates nothing. Everything is mirrored through dj-stripe.
    """
    done: list[str] = []
    for plan in PLANS.values():
        if not plan.prices and not plan.contact_sales:
            continue  # Free needs nothing in Stripe
        product_id = product_id_for(plan)
        metadata = {"plateau_plan": plan.key}
        product = gateway.product_retrieve(product_id=product_id)
        if product is None:
            product = gateway.product_create(
                product_id=product_id, name=plan.name, description=plan.description, metadata=metadata
            )
            done.append(f"created product {product_id}")
        elif (product.name, product.description, dict(product.metadata or {}), product.active) != (
            plan.name,
            plan.description,
            metadata,
            True,
        ):
            product = gateway.product_update(
                product_id=product_id, name=plan.name, description=plan.description, metadata=metadata
            )
            done.append(f"updated product {product_id}")
        Product.sync_from_stripe_data(product)

        existing = {p.lookup_key: p for p in gateway.price_list(lookup_keys=[p.lookup_key for p in plan.prices])}
        for wanted in plan.prices:
            current = existing.get(wanted.lookup_key)
            if current is not None and (
                current.unit_amount,
                current.currency,
                current.recurring.interval if current.recurring else None,
                current.product,
            ) == (wanted.unit_amount, wanted.currency, wanted.interval, product_id):
                Price.sync_from_stripe_data(current)
                continue
            created = gateway.price_create(
                product_id=product_id,
                unit_amount=wanted.unit_amount,
                currency=wanted.currency,
                interval=wanted.interval,
                lookup_key=wanted.lookup_key,
                metadata=metadata,
            )
            Price.sync_from_stripe_data(created)
            done.append(f"created price {wanted.lookup_key} ({created.id})")
            if current is not None:
                Price.sync_from_stripe_data(gateway.price_deactivate(price_id=current.id))
                done.append(f"deactivated price {current.id}")
    return done
