"""Subscriptions, their items and discounts, and the clock that renews them.

API version 2025-03-31 ("basil") semantics: billing periods live on subscription items
(`current_period_start`/`current_period_end`), not on the subscription.
"""

import calendar
from datetime import UTC, datetime

from .core import random_id
from .invoices import DAY, money, pricing
from .payments import card_error
from .wire import as_bool, as_int, as_list, invalid, merge_metadata, required

# Smart-retry schedule after a failed renewal, in days after the first failure; after the
# last one fails the subscription is canceled (Stripe's default dunning setting).
RETRY_DAYS = (3, 5, 7)


def add_interval(timestamp: int, interval: str, count: int) -> int:
    if interval == "day":
        return timestamp + count * DAY
    if interval == "week":
        return timestamp + count * 7 * DAY
    moment = datetime.fromtimestamp(timestamp, UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class SubscriptionsMixin:
    # --- helpers ----------------------------------------------------------------------------
    def _plan_for(self, price: dict) -> dict:
        plan = self.blank("plan")
        recurring = price["recurring"] or {}
        plan.update(
            id=price["id"],
            active=price["active"],
            amount=price["unit_amount"],
            amount_decimal=price["unit_amount_decimal"],
            billing_scheme="per_unit",
            created=price["created"],
            currency=price["currency"],
            interval=recurring.get("interval", "month"),
            interval_count=recurring.get("interval_count", 1),
            livemode=False,
            metadata=price["metadata"],
            nickname=price["nickname"],
            product=price["product"],
            transform_usage=None,
            trial_period_days=recurring.get("trial_period_days"),
            usage_type="licensed",
        )
        return plan

    def _price_param(self, spec: dict, param: str) -> dict:
        if spec.get("price_data"):
            data = spec["price_data"]
            return self.price_create(
                {
                    "currency": data.get("currency"),
                    "unit_amount": data.get("unit_amount"),
                    "product": data.get("product"),
                    "product_data": data.get("product_data"),
                    "recurring": data.get("recurring"),
                }
            )
        price = self.fetch(required(spec, "price"), "price", param=f"{param}[price]")
        if not price["active"]:
            raise invalid(f"The price specified ({price['id']}) is inactive.", param=f"{param}[price]")
        return price

    def _customer_payment_method(self, subscription: dict) -> dict | None:
        pm_id = subscription["default_payment_method"]
        if not pm_id:
            customer = self.store.get(subscription["customer"])
            pm_id = customer["invoice_settings"]["default_payment_method"] if customer else None
        return self.store.get(pm_id) if pm_id else None

    def _redeemable(self, *, coupon_id=None, promotion_code_id=None) -> tuple[dict, dict | None]:
        """The coupon (and promotion code) a discount would use, if they can still be redeemed."""
        promo = None
        if promotion_code_id:
            promo = self.fetch(promotion_code_id, "promotion_code", param="discounts[promotion_code]")
            if not promo["active"]:
                raise invalid("This promotion code is inactive.", param="discounts[promotion_code]")
            if promo["max_redemptions"] and promo["times_redeemed"] >= promo["max_redemptions"]:
                raise invalid("This promotion code has reached its max redemptions.", param="discounts[promotion_code]")
            coupon_id = promo["promotion"]["coupon"]
        coupon = self.fetch(coupon_id, "coupon", param="discounts[coupon]")
        if coupon["max_redemptions"] and coupon["times_redeemed"] >= coupon["max_redemptions"]:
            raise invalid(f"Coupon {coupon['id']} has reached its max redemptions.", param="discounts[coupon]")
        return coupon, promo

    def _discount_for(self, *, coupon_id=None, promotion_code_id=None, customer=None, subscription=None, session=None):
        """Redeem a coupon or promotion code: a discount object, counted against their limits."""
        coupon, promo = self._redeemable(coupon_id=coupon_id, promotion_code_id=promotion_code_id)
        start = self.now(customer)
        discount = self.blank("discount")
        discount.update(
            id=random_id("di"),
            checkout_session=session,
            customer=customer,
            end=add_interval(start, "month", coupon["duration_in_months"])
            if coupon["duration"] == "repeating"
            else None,
            promotion_code=promo["id"] if promo else None,
            source={"coupon": coupon["id"], "type": "coupon"},
            start=start,
            subscription=subscription,
        )
        coupon["times_redeemed"] += 1
        self.save(coupon)
        if promo:
            promo["times_redeemed"] += 1
            self.save(promo)
        self.save(discount)
        return discount

    def _discounts_param(self, params: dict, *, customer: str, subscription: str | None = None) -> list[str]:
        ids = []
        specs = as_list(params, "discounts")
        if params.get("coupon"):
            specs.append({"coupon": params["coupon"]})
        if params.get("promotion_code"):
            specs.append({"promotion_code": params["promotion_code"]})
        for spec in specs:
            if spec.get("discount"):
                ids.append(self.fetch(spec["discount"], "discount", param="discounts[discount]")["id"])
                continue
            ids.append(
                self._discount_for(
                    coupon_id=spec.get("coupon"),
                    promotion_code_id=spec.get("promotion_code"),
                    customer=customer,
                    subscription=subscription,
                )["id"]
            )
        return ids

    # --- subscriptions ----------------------------------------------------------------------
    def _item_new(self, subscription_id: str, price: dict, quantity: int, start: int, end: int, metadata=None) -> dict:
        item = self.blank("subscription_item")
        item.update(
            id=random_id("si", 14),
            billing_thresholds=None,
            created=start,
            current_period_end=end,
            current_period_start=start,
            discounts=[],
            metadata=metadata or {},
            plan=self._plan_for(price),
            price=price,
            quantity=quantity,
            subscription=subscription_id,
            tax_rates=[],
        )
        return item

    def _items_list(self, subscription: dict, items: list[dict]) -> dict:
        return {
            "data": items,
            "has_more": False,
            "object": "list",
            "url": f"/v1/subscription_items?subscription={subscription['id']}",
        }

    def _subscription_store(self, subscription: dict) -> dict:
        current = {item["id"] for item in subscription["items"]["data"]}
        for item in subscription["items"]["data"]:
            self.save(item)
        for old in self.store.all("subscription_item"):
            if old["subscription"] == subscription["id"] and old["id"] not in current:
                self.tombstone(old["id"], "subscription_item")
        return self.save(subscription)

    def _subscription_set(self, subscription: dict, **changes) -> dict:
        before = self.store.get(subscription["id"])
        subscription.update(changes)
        self._subscription_store(subscription)
        previous = self.changes(before, subscription)
        if previous:
            self.emit("customer.subscription.updated", subscription, previous)
        return subscription

    @staticmethod
    def _period_end(price: dict, start: int) -> int:
        recurring = price["recurring"]
        return add_interval(start, recurring["interval"], recurring["interval_count"])

    def _item_line(self, invoice, subscription, item, *, trial: bool = False) -> dict:
        price, quantity = item["price"], item["quantity"]
        name = self._product_name(price)
        interval = price["recurring"]["interval"]
        if trial:
            description, amount = f"Trial period for {name}", 0
        else:
            amount = price["unit_amount"] * quantity
            description = f"{quantity} × {name} (at {money(price['unit_amount'], price['currency'])} / {interval})"
        return self._line(
            invoice,
            amount=amount,
            description=description,
            period=(item["current_period_start"], item["current_period_end"]),
            quantity=quantity,
            price=price,
            subscription=subscription["id"],
            subscription_item=item["id"],
        )

    def _expire_once_discounts(self, subscription: dict) -> None:
        kept = []
        for discount_id in subscription["discounts"]:
            discount = self.store.get(discount_id)
            coupon = self.store.get(discount["source"]["coupon"]) if discount else None
            if coupon and coupon["duration"] == "once":
                continue
            if discount and discount["end"] and discount["end"] <= self.now(subscription["customer"]):
                continue
            kept.append(discount_id)
        subscription["discounts"] = kept

    def subscription_create(self, params: dict) -> dict:
        customer = self.fetch(required(params, "customer"), "customer", param="customer")
        specs = as_list(params, "items")
        if not specs:
            raise invalid("Missing required param: items.", param="items", code="parameter_missing")
        chosen = []
        for index, spec in enumerate(specs):
            price = self._price_param(spec, f"items[{index}]")
            if price["type"] != "recurring":
                raise invalid(
                    "The price specified is set to `type=one_time` but this field only accepts prices with"
                    " `type=recurring`.",
                    param=f"items[{index}][price]",
                )
            chosen.append((price, as_int(spec, "quantity", 1, minimum=0), spec.get("metadata") or {}))
        currencies = {price["currency"] for price, _, _ in chosen}
        if len(currencies) > 1:
            raise invalid("All prices on a subscription must have the same currency.", param="items")
        behaviour = params.get("payment_behavior", "allow_incomplete")
        pm = None
        if params.get("default_payment_method"):
            pm = self.resolve_payment_method(params["default_payment_method"], param="default_payment_method")
            if pm["customer"] != customer["id"]:
                raise invalid(
                    f"The customer does not have a payment method with the ID {pm['id']}. The payment method must be"
                    " attached to the customer.",
                    param="default_payment_method",
                )
        now = self.now(customer["id"])
        trial_end = None
        if params.get("trial_end") and params["trial_end"] != "now":
            trial_end = as_int(params, "trial_end")
            if trial_end <= now:
                raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end")
        elif params.get("trial_period_days"):
            trial_end = now + as_int(params, "trial_period_days", minimum=1) * DAY
        elif as_bool(params, "trial_from_plan") and chosen[0][0]["recurring"]["trial_period_days"]:
            trial_end = now + chosen[0][0]["recurring"]["trial_period_days"] * DAY
        subscription = self.blank("subscription")
        subscription["id"] = random_id("sub")
        items = [
            self._item_new(subscription["id"], price, quantity, now, trial_end or self._period_end(price, now), meta)
            for price, quantity, meta in chosen
        ]
        missing_pm_behaviour = ((params.get("trial_settings") or {}).get("end_behavior") or {}).get(
            "missing_payment_method", "create_invoice"
        )
        subscription.update(
            billing_cycle_anchor=trial_end or now,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={"comment": None, "feedback": None, "reason": None},
            collection_method="charge_automatically",
            created=now,
            currency=chosen[0][0]["currency"],
            customer=customer["id"],
            default_payment_method=pm["id"] if pm else None,
            description=params.get("description") or None,
            discounts=[],
            items=self._items_list(subscription, items),
            latest_invoice=None,
            metadata=merge_metadata({}, params.get("metadata")),
            payment_settings={
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            start_date=now,
            status="trialing" if trial_end else "incomplete",
            test_clock=customer["test_clock"],
            trial_end=trial_end,
            trial_settings={"end_behavior": {"missing_payment_method": missing_pm_behaviour}},
            trial_start=now if trial_end else None,
        )
        subscription["discounts"] = self._discounts_param(
            params, customer=customer["id"], subscription=subscription["id"]
        )
        self._subscription_store(subscription)
        invoice = self._invoice_new(
            customer_id=customer["id"],
            currency=subscription["currency"],
            subscription=subscription,
            billing_reason="subscription_create",
            period=(now, now),
        )
        for index, extra in enumerate(as_list(params, "add_invoice_items")):
            # One-time charges billed on the first invoice (Checkout puts one-time prices here).
            price = self._price_param(extra, f"add_invoice_items[{index}]")
            self.invoice_item_create(
                {
                    "customer": customer["id"],
                    "price": price["id"],
                    "quantity": extra.get("quantity", "1"),
                    "subscription": subscription["id"],
                }
            )
        lines = [self._item_line(invoice, subscription, item, trial=bool(trial_end)) for item in items]
        invoice = self._invoice_build(invoice, lines, subscription["discounts"])
        subscription["latest_invoice"] = invoice["id"]
        self._subscription_store(subscription)
        self.emit("customer.subscription.created", subscription)
        invoice = self._invoice_finalize(invoice)
        if invoice["status"] == "paid":
            if not trial_end:
                self._subscription_set(subscription, status="active")
            return self.store.get(subscription["id"])
        if behaviour == "default_incomplete":
            return self.store.get(subscription["id"])
        pm = pm or self._customer_payment_method(subscription)
        if pm is None:
            raise invalid(
                "This customer has no attached payment source or default payment method.", code="resource_missing"
            )
        message = self._invoice_attempt(invoice, pm)
        if message and behaviour == "error_if_incomplete":
            # Stripe creates nothing when error_if_incomplete payment fails.
            raise card_error(message, "generic_decline", keep_changes=False)
        return self.store.get(subscription["id"])

    def subscription_retrieve(self, subscription_id: str, params: dict) -> dict:
        return self.fetch(subscription_id, "subscription")

    def subscription_list(self, params: dict) -> dict:
        subscriptions = self.store.all("subscription")
        status = params.get("status")
        if status == "ended":
            subscriptions = [s for s in subscriptions if s["status"] in ("canceled", "incomplete_expired")]
        elif status and status != "all":
            subscriptions = [s for s in subscriptions if s["status"] == status]
        elif not status:
            subscriptions = [s for s in subscriptions if s["status"] not in ("canceled", "incomplete_expired")]
        if params.get("customer"):
            subscriptions = [s for s in subscriptions if s["customer"] == params["customer"]]
        if params.get("price"):
            subscriptions = [
                s for s in subscriptions if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
            ]
        return self.page(subscriptions, params, "/v1/subscriptions")

    def _proration_item(
        self, subscription: dict, *, price: dict, quantity: int, amount: int, start: int, end: int, unused: bool
    ) -> dict:
        name = self._product_name(price)
        when = datetime.fromtimestamp(start, UTC).strftime("%d %b %Y")
        item = self.blank("invoiceitem")
        item.update(
            id=random_id("ii"),
            amount=amount,
            currency=price["currency"],
            customer=subscription["customer"],
            date=start,
            description=f"{'Unused' if unused else 'Remaining'} time on {quantity} × {name} after {when}",
            discounts=[],
            invoice=None,
            metadata={},
            net_amount=amount,
            parent={"subscription_details": {"subscription": subscription["id"]}, "type": "subscription_details"},
            period={"end": end, "start": start},
            pricing=pricing(price, amount),
            proration=True,
            quantity=quantity,
            quantity_decimal=str(quantity),
        )
        self.save(item)
        self.emit("invoiceitem.created", item)
        return item

    def _prorate(
        self, subscription: dict, item: dict, fraction: float, start: int, end: int, prorations: list, *, unused: bool
    ) -> None:
        """Add a proration invoice item for `fraction` of the item's period: a credit when unused, else a charge."""
        amount = int(item["price"]["unit_amount"] * item["quantity"] * fraction + 0.5)
        if amount:
            prorations.append(
                self._proration_item(
                    subscription,
                    price=item["price"],
                    quantity=item["quantity"],
                    amount=-amount if unused else amount,
                    start=start,
                    end=end,
                    unused=unused,
                )
            )

    def subscription_update(self, subscription_id: str, params: dict) -> dict:
        subscription = self.fetch(subscription_id, "subscription")
        if subscription["status"] in ("canceled", "incomplete_expired"):
            if set(params) - {"metadata", "cancellation_details", "expand"}:
                raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
        now = self.now(subscription["customer"])
        behaviour = params.get("proration_behavior", "create_prorations")
        if behaviour not in ("create_prorations", "none", "always_invoice"):
            raise invalid(f"Invalid proration_behavior: {behaviour}", param="proration_behavior")
        proration_date = as_int(params, "proration_date", now)
        if "cancel_at_period_end" in params:
            cancel = as_bool(params, "cancel_at_period_end")
            period_end = min(i["current_period_end"] for i in subscription["items"]["data"])
            subscription.update(
                cancel_at_period_end=cancel,
                cancel_at=period_end if cancel else None,
                canceled_at=now if cancel else None,
            )
            subscription["cancellation_details"] = {
                "comment": (params.get("cancellation_details") or {}).get("comment") if cancel else None,
                "feedback": (params.get("cancellation_details") or {}).get("feedback") if cancel else None,
                "reason": "cancellation_requested" if cancel else None,
            }
        if "cancel_at" in params:
            cancel_at = as_int(params, "cancel_at")
            subscription.update(cancel_at=cancel_at, cancel_at_period_end=False, canceled_at=now if cancel_at else None)
        if "default_payment_method" in params:
            pm_id = params["default_payment_method"] or None
            if pm_id:
                pm = self.fetch(pm_id, "payment_method", param="default_payment_method")
                if pm["customer"] != subscription["customer"]:
                    raise invalid(
                        "The payment method must be attached to the customer.", param="default_payment_method"
                    )
            subscription["default_payment_method"] = pm_id
        if "description" in params:
            subscription["description"] = params["description"] or None
        subscription["metadata"] = merge_metadata(subscription["metadata"], params.get("metadata"))
        if "discounts" in params or params.get("coupon") or params.get("promotion_code"):
            subscription["discounts"] = self._discounts_param(
                params, customer=subscription["customer"], subscription=subscription_id
            )
        prorations: list[dict] = []
        reset_cycle = False
        if "items" in params:
            reset_cycle = self._update_items(
                subscription, as_list(params, "items"), behaviour, proration_date, prorations
            )
        invoice_now = behaviour == "always_invoice" and prorations
        if params.get("trial_end") == "now" and subscription["status"] == "trialing":
            subscription.update(trial_end=now)
            reset_cycle = True
        elif params.get("trial_end") and params["trial_end"] != "now":
            trial_end = as_int(params, "trial_end")
            subscription.update(trial_end=trial_end, status="trialing")
            for item in subscription["items"]["data"]:
                item["current_period_end"] = trial_end
        if reset_cycle:
            for item in subscription["items"]["data"]:
                item.update(current_period_start=now, current_period_end=self._period_end(item["price"], now))
            subscription.update(billing_cycle_anchor=now)
            if subscription["status"] == "trialing":
                subscription["status"] = "active"
        self._subscription_set(subscription)
        if reset_cycle or invoice_now:
            invoice = self._invoice_new(
                customer_id=subscription["customer"],
                currency=subscription["currency"],
                subscription=subscription,
                billing_reason="subscription_update",
                period=(now, now),
            )
            lines = (
                [self._item_line(invoice, subscription, item) for item in subscription["items"]["data"]]
                if reset_cycle
                else []
            )
            invoice = self._invoice_build(invoice, lines, subscription["discounts"])
            self._subscription_set(subscription, latest_invoice=invoice["id"])
            invoice = self._invoice_finalize(invoice)
            if invoice["status"] == "open":
                message = self._invoice_attempt(invoice, self._customer_payment_method(subscription))
                if message and params.get("payment_behavior") == "error_if_incomplete":
                    raise card_error(message, "generic_decline", keep_changes=False)
                if message:
                    self._subscription_set(self.store.get(subscription_id), status="past_due")
        return self.store.get(subscription_id)

    def _update_items(
        self, subscription: dict, specs: list[dict], behaviour: str, proration_date: int, prorations: list
    ) -> bool:
        """Apply item changes; returns True when the billing interval changed (which resets the cycle)."""
        items = {item["id"]: item for item in subscription["items"]["data"]}
        prorate = behaviour != "none" and subscription["status"] != "trialing"
        old_intervals = {
            (i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"]) for i in items.values()
        }
        any_item = next(iter(items.values()))
        start, end = any_item["current_period_start"], any_item["current_period_end"]
        fraction = max(0, end - proration_date) / max(1, end - start)

        def credit(item):
            if prorate:
                self._prorate(subscription, item, fraction, proration_date, end, prorations, unused=True)

        # Charges for the rest of the period are added at the end: when the interval changes,
        # the cycle restarts now and the new price is billed for a whole new period instead.
        to_debit: list[dict] = []

        def debit(item):
            if prorate:
                to_debit.append(item)

        for index, spec in enumerate(specs):
            if spec.get("id"):
                item = items.get(spec["id"])
                if item is None:
                    raise invalid(f"No such subscription item: '{spec['id']}'", param=f"items[{index}][id]")
                if as_bool(spec, "deleted"):
                    credit(item)
                    del items[item["id"]]
                    continue
                new_price = (
                    self._price_param(spec, f"items[{index}]")
                    if spec.get("price") or spec.get("price_data")
                    else item["price"]
                )
                new_quantity = as_int(spec, "quantity", item["quantity"], minimum=0)
                if new_price["id"] == item["price"]["id"] and new_quantity == item["quantity"]:
                    continue
                credit(item)
                item.update(price=new_price, plan=self._plan_for(new_price), quantity=new_quantity)
                item["metadata"] = merge_metadata(item["metadata"], spec.get("metadata"))
                debit(item)
            else:
                price = self._price_param(spec, f"items[{index}]")
                if any(i["price"]["id"] == price["id"] for i in items.values()):
                    raise invalid(
                        "Cannot add multiple subscription items with the same price.", param=f"items[{index}][price]"
                    )
                item = self._item_new(
                    subscription["id"], price, as_int(spec, "quantity", 1, minimum=0), start, end, spec.get("metadata")
                )
                item["created"] = proration_date
                items[item["id"]] = item
                debit(item)
        if not items:
            raise invalid("A subscription must have at least one active item.", param="items")
        subscription["items"] = self._items_list(subscription, list(items.values()))
        new_intervals = {
            (i["price"]["recurring"]["interval"], i["price"]["recurring"]["interval_count"]) for i in items.values()
        }
        reset_cycle = new_intervals != old_intervals
        if not reset_cycle:
            for item in to_debit:
                self._prorate(subscription, item, fraction, proration_date, end, prorations, unused=False)
        return reset_cycle

    def subscription_cancel(self, subscription_id: str, params: dict) -> dict:
        subscription = self.fetch(subscription_id, "subscription")
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
        now = self.now(subscription["customer"])
        if as_bool(params, "prorate") and subscription["status"] != "trialing":
            prorations: list = []
            item = subscription["items"]["data"][0]
            end, start = item["current_period_end"], item["current_period_start"]
            fraction = max(0, end - now) / max(1, end - start)
            for item in subscription["items"]["data"]:
                self._prorate(subscription, item, fraction, now, end, prorations, unused=True)
            if as_bool(params, "invoice_now") and prorations:
                invoice = self._invoice_new(
                    customer_id=subscription["customer"],
                    currency=subscription["currency"],
                    subscription=subscription,
                    billing_reason="subscription_update",
                    period=(now, now),
                )
                invoice = self._invoice_build(invoice, [], [])
                self._invoice_finalize(invoice)
        details = params.get("cancellation_details") or {}
        self._end_subscription(
            subscription,
            reason="cancellation_requested",
            comment=details.get("comment"),
            feedback=details.get("feedback"),
        )
        return self.store.get(subscription_id)

    def _end_subscription(self, subscription: dict, *, reason: str, comment=None, feedback=None) -> None:
        before = self.store.get(subscription["id"])
        now = self.now(subscription["customer"])
        subscription.update(
            status="canceled",
            canceled_at=subscription["canceled_at"] or now,
            ended_at=now,
            cancellation_details={"comment": comment, "feedback": feedback, "reason": reason},
        )
        self._subscription_store(subscription)
        for invoice in self.store.all("invoice"):
            if self._invoice_field(invoice, "subscription") == subscription["id"] and invoice["status"] == "open":
                invoice.update(next_payment_attempt=None, auto_advance=False)
                self.save(invoice)
        self.emit("customer.subscription.deleted", subscription, self.changes(before, subscription))

    def subscription_resume(self, subscription_id: str, params: dict) -> dict:
        subscription = self.fetch(subscription_id, "subscription")
        if subscription["status"] != "paused":
            raise invalid("Only a paused subscription can be resumed.")
        now = self.now(subscription["customer"])
        for item in subscription["items"]["data"]:
            item.update(current_period_start=now, current_period_end=self._period_end(item["price"], now))
        subscription.update(billing_cycle_anchor=now, status="active", pause_collection=None)
        self._subscription_set(subscription)
        self.emit("customer.subscription.resumed", subscription)
        self._cycle_invoice(subscription, reason="subscription_cycle")
        return self.store.get(subscription_id)

    # --- subscription items ---------------------------------------------------------------
    def subscription_item_list(self, params: dict) -> dict:
        subscription = self.fetch(required(params, "subscription"), "subscription", param="subscription")
        return self.page(subscription["items"]["data"], params, "/v1/subscription_items")

    def subscription_item_retrieve(self, item_id: str, params: dict) -> dict:
        return self.fetch(item_id, "subscription_item")

    def subscription_item_create(self, params: dict) -> dict:
        subscription_id = required(params, "subscription")
        spec = {key: params[key] for key in ("price", "price_data", "quantity", "metadata") if key in params}
        before = {item["id"] for item in self.fetch(subscription_id, "subscription")["items"]["data"]}
        updated = self.subscription_update(subscription_id, {**self._proration_params(params), "items": [spec]})
        return next(item for item in updated["items"]["data"] if item["id"] not in before)

    def subscription_item_update(self, item_id: str, params: dict) -> dict:
        item = self.fetch(item_id, "subscription_item")
        spec = {key: params[key] for key in ("price", "price_data", "quantity", "metadata") if key in params}
        updated = self.subscription_update(
            item["subscription"], {**self._proration_params(params), "items": [{"id": item_id, **spec}]}
        )
        return next(i for i in updated["items"]["data"] if i["id"] == item_id)

    def subscription_item_delete(self, item_id: str, params: dict) -> dict:
        item = self.fetch(item_id, "subscription_item")
        self.subscription_update(
            item["subscription"], {**self._proration_params(params), "items": [{"id": item_id, "deleted": "true"}]}
        )
        return {"id": item_id, "object": "subscription_item", "deleted": True}

    @staticmethod
    def _proration_params(params: dict) -> dict:
        return {
            key: params[key] for key in ("proration_behavior", "proration_date", "payment_behavior") if key in params
        }

    # --- the clock ----------------------------------------------------------------------------
    def _cycle_invoice_draft(self, subscription: dict, *, reason: str) -> dict:
        """The draft invoice for the period the subscription's items have just entered."""
        item = subscription["items"]["data"][0]
        invoice = self._invoice_new(
            customer_id=subscription["customer"],
            currency=subscription["currency"],
            subscription=subscription,
            billing_reason=reason,
            period=(item["current_period_start"], item["current_period_start"]),
        )
        lines = [self._item_line(invoice, subscription, i) for i in subscription["items"]["data"]]
        # A `once` coupon covered the first invoice only; a `repeating` one may have run out.
        self._expire_once_discounts(subscription)
        return self._invoice_build(invoice, lines, subscription["discounts"])

    def _cycle_invoice(self, subscription: dict, *, reason: str) -> dict:
        invoice = self._cycle_invoice_draft(subscription, reason=reason)
        self._subscription_set(subscription, latest_invoice=invoice["id"])
        invoice = self._invoice_finalize(invoice)
        if invoice["status"] == "open":
            message = self._invoice_attempt(invoice, self._customer_payment_method(subscription))
            if message:
                now = self.now(subscription["customer"])
                invoice = self.store.get(invoice["id"])
                invoice["next_payment_attempt"] = now + RETRY_DAYS[0] * DAY
                self.save(invoice, {"first_failure_at": now})
                self._subscription_set(self.store.get(subscription["id"]), status="past_due")
        return invoice

    def _renew(self, subscription: dict) -> None:
        if subscription["cancel_at_period_end"]:
            self._end_subscription(
                subscription,
                reason="cancellation_requested",
                comment=subscription["cancellation_details"]["comment"],
                feedback=subscription["cancellation_details"]["feedback"],
            )
            return
        trial_ending = subscription["status"] == "trialing"
        if trial_ending and self._customer_payment_method(subscription) is None:
            behaviour = subscription["trial_settings"]["end_behavior"]["missing_payment_method"]
            if behaviour == "cancel":
                self._end_subscription(subscription, reason="cancellation_requested")
                return
            if behaviour == "pause":
                self._subscription_set(subscription, status="paused")
                self.emit("customer.subscription.paused", subscription)
                return
        for item in subscription["items"]["data"]:
            start = item["current_period_end"]
            item.update(current_period_start=start, current_period_end=self._period_end(item["price"], start))
        self._subscription_set(subscription, status="active" if trial_ending else subscription["status"])
        self._cycle_invoice(subscription, reason="subscription_cycle")

    def _retry(self, subscription: dict, invoice: dict) -> None:
        message = self._invoice_attempt(invoice, self._customer_payment_method(subscription))
        if message is None:
            return
        invoice = self.store.get(invoice["id"])
        failures = invoice["attempt_count"]
        if failures <= len(RETRY_DAYS):
            first = self.store.internal(invoice["id"]).get("first_failure_at", self.now(subscription["customer"]))
            invoice["next_payment_attempt"] = first + RETRY_DAYS[failures - 1] * DAY
            self.save(invoice)
            return
        invoice["next_payment_attempt"] = None
        self.save(invoice)
        self._end_subscription(self.store.get(subscription["id"]), reason="payment_failed")

    def _next_due(self, until: int, clock_id: str | None):
        """The earliest billing moment at or before `until` for customers on this clock."""
        best = None
        for subscription in self.store.all("subscription"):
            if subscription["test_clock"] != clock_id or subscription["status"] in ("canceled", "incomplete_expired"):
                continue
            internal = self.store.internal(subscription["id"])
            candidates = []
            if subscription["status"] == "incomplete":
                candidates.append((subscription["created"] + 23 * 3600, "expire", None))
            elif subscription["status"] == "paused":
                continue
            else:
                if subscription["status"] == "trialing" and not internal.get("trial_will_end_sent"):
                    moment = subscription["trial_end"] - 3 * DAY
                    if moment > subscription["created"]:
                        candidates.append((moment, "trial_will_end", None))
                if subscription["cancel_at"] and not subscription["cancel_at_period_end"]:
                    candidates.append((subscription["cancel_at"], "cancel_at", None))
                period_end = min(item["current_period_end"] for item in subscription["items"]["data"])
                candidates.append((period_end, "renew", None))
                invoice = self.store.get(subscription["latest_invoice"]) if subscription["latest_invoice"] else None
                if invoice and invoice["status"] == "open" and invoice["next_payment_attempt"]:
                    candidates.append((invoice["next_payment_attempt"], "retry", invoice))
            for moment, action, extra in candidates:
                if moment <= until and (best is None or moment < best[0]):
                    best = (moment, action, subscription, extra)
        return best

    def run_clock(self, until: int, clock_id: str | None) -> int:
        """Process every renewal, trial end, retry and cancellation due up to `until`; returns how many."""
        handled = 0
        while handled < 10_000:
            due = self._next_due(until, clock_id)
            if due is None:
                break
            moment, action, subscription, invoice = due
            self._moment = moment
            try:
                if action == "expire":
                    self._subscription_set(subscription, status="incomplete_expired", ended_at=moment)
                    latest = self.store.get(subscription["latest_invoice"])
                    if latest and latest["status"] == "open":
                        self.invoice_void(latest["id"], {})
                elif action == "trial_will_end":
                    self.save(subscription, {"trial_will_end_sent": True})
                    self.emit("customer.subscription.trial_will_end", subscription)
                elif action == "cancel_at":
                    self._end_subscription(subscription, reason="cancellation_requested")
                elif action == "renew":
                    self._renew(subscription)
                elif action == "retry":
                    self._retry(subscription, invoice)
            finally:
                self._moment = None
            handled += 1
        return handled

    def sandbox_clock_advance(self, seconds: int) -> dict:
        if seconds < 0:
            raise invalid("The sandbox clock only moves forward.", param="seconds")
        self.store.meta_set("clock_offset", int(self.store.meta_get("clock_offset", 0)) + seconds)
        now = self.now()
        return {"now": now, "processed": self.run_clock(now, None)}

    # --- invoice previews -----------------------------------------------------------------
    def invoice_create_preview(self, params: dict) -> dict:
        """The subscription's next invoice, optionally after proposed item changes; nothing is kept.

        Runs the change and the renewal for real inside a savepoint and rolls them back, so the
        preview is computed by exactly the code that will bill it.
        """
        subscription_id = params.get("subscription")
        if not subscription_id:
            raise invalid("The sandbox previews subscription invoices: pass `subscription`.", param="subscription")
        details = params.get("subscription_details") or {}
        change = {key: details[key] for key in ("items", "proration_behavior", "proration_date") if key in details}
        self.store.db.execute("SAVEPOINT invoice_preview")
        try:
            subscription = self.fetch(subscription_id, "subscription", param="subscription")
            if params.get("customer") and params["customer"] != subscription["customer"]:
                raise invalid("The subscription does not belong to this customer.", param="customer")
            latest_before = subscription["latest_invoice"]
            if change:
                subscription = self.subscription_update(subscription_id, change)
            if change.get("items") and subscription["latest_invoice"] != latest_before:
                # Billed at once (always_invoice, or an interval change that restarts the cycle).
                preview = self.fetch(subscription["latest_invoice"], "invoice")
            else:
                preview = self._preview_renewal(subscription)
        finally:
            self.store.db.execute("ROLLBACK TO invoice_preview")
            self.store.db.execute("RELEASE invoice_preview")
        return {**preview, "id": f"upcoming_{preview['id']}", "status": "draft", "number": None}

    def _preview_renewal(self, subscription: dict) -> dict:
        period_end = min(item["current_period_end"] for item in subscription["items"]["data"])
        self._moment = period_end
        try:
            for item in subscription["items"]["data"]:
                item.update(
                    current_period_start=period_end, current_period_end=self._period_end(item["price"], period_end)
                )
            return self._cycle_invoice_draft(subscription, reason="upcoming")
        finally:
            self._moment = None

    # --- Stripe's test clocks -------------------------------------------------------------
    def test_clock_create(self, params: dict) -> dict:
        clock = self.blank("test_helpers.test_clock")
        frozen = as_int(params, "frozen_time")
        if frozen is None:
            raise invalid("Missing required param: frozen_time.", param="frozen_time", code="parameter_missing")
        clock.update(
            id=random_id("clock"),
            created=self.now(),
            deletes_after=self.now() + 30 * DAY,
            frozen_time=frozen,
            name=params.get("name") or None,
            status="ready",
            status_details={},
        )
        self.save(clock)
        self.emit("test_helpers.test_clock.created", clock)
        return clock

    def test_clock_retrieve(self, clock_id: str, params: dict) -> dict:
        return self.fetch(clock_id, "test_helpers.test_clock")

    def test_clock_list(self, params: dict) -> dict:
        return self.page(self.store.all("test_helpers.test_clock"), params, "/v1/test_helpers/test_clocks")

    def test_clock_delete(self, clock_id: str, params: dict) -> dict:
        self.fetch(clock_id, "test_helpers.test_clock")
        stub = self.tombstone(clock_id, "test_helpers.test_clock")
        return stub

    def test_clock_advance(self, clock_id: str, params: dict) -> dict:
        clock = self.fetch(clock_id, "test_helpers.test_clock")
        target = as_int(params, "frozen_time")
        if target is None:
            raise invalid("Missing required param: frozen_time.", param="frozen_time", code="parameter_missing")
        if target <= clock["frozen_time"]:
            raise invalid("The test clock can only move forward in time.", param="frozen_time")
        self.emit("test_helpers.test_clock.advancing", {**clock, "status": "advancing"})
        self.run_clock(target, clock_id)
        clock = self.fetch(clock_id, "test_helpers.test_clock")
        clock.update(frozen_time=target, status="ready")
        self.save(clock)
        self.emit("test_helpers.test_clock.ready", clock)
        return clock
