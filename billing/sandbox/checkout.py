"""Checkout sessions, billing portal sessions, and what their hosted pages do on submit."""

from .core import random_id
from .payments import DECLINES, card_error
from .wire import StripeError, as_bool, as_int, as_list, invalid, merge_metadata, required

SESSION_LIFETIME = 24 * 3600


class CheckoutMixin:
    def checkout_session_create(self, params: dict) -> dict:
        mode = params.get("mode", "payment")
        if mode not in ("payment", "subscription"):
            raise invalid(f"The sandbox supports mode=payment and mode=subscription, not {mode}.", param="mode")
        success_url = required(params, "success_url")
        customer_id = params.get("customer") or None
        if customer_id:
            self.fetch(customer_id, "customer", param="customer")
        if customer_id and params.get("customer_email"):
            raise invalid("You may only specify one of these parameters: customer, customer_email.")
        specs = as_list(params, "line_items")
        if not specs:
            raise invalid("Missing required param: line_items.", param="line_items", code="parameter_missing")
        session_id = random_id("cs_test", 58)
        now = self.now(customer_id)
        items = []
        for index, spec in enumerate(specs):
            price = self._price_param(spec, f"line_items[{index}]")
            if mode == "payment" and price["type"] == "recurring":
                raise invalid(
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription`"
                    " mode or use only one-time prices.",
                    param=f"line_items[{index}]",
                )
            quantity = as_int(spec, "quantity", 1, minimum=1)
            amount = price["unit_amount"] * quantity
            item = self.blank("item")
            item.update(
                id=random_id("li"),
                adjustable_quantity=None,
                amount_discount=0,
                amount_subtotal=amount,
                amount_tax=0,
                amount_total=amount,
                currency=price["currency"],
                description=self._product_name(price),
                metadata={},
                price=price,
                quantity=quantity,
            )
            items.append(item)
        if mode == "subscription" and not any(item["price"]["type"] == "recurring" for item in items):
            raise invalid("You must provide at least one recurring price in `subscription` mode.", param="line_items")
        subtotal = sum(item["amount_subtotal"] for item in items)
        # Validated now, redeemed (counted against the coupon's limits) when the customer pays.
        discounts = [self._discount_source(spec) for spec in as_list(params, "discounts")]
        discount_total = self._checkout_discount(items, discounts)
        session = self.blank("checkout.session")
        subscription_data = params.get("subscription_data") or {}
        session.update(
            id=session_id,
            allow_promotion_codes=as_bool(params, "allow_promotion_codes") or None,
            amount_subtotal=subtotal,
            amount_total=subtotal - discount_total,
            cancel_url=params.get("cancel_url") or None,
            client_reference_id=params.get("client_reference_id") or None,
            created=now,
            currency=items[0]["currency"],
            customer=customer_id,
            customer_creation="always" if mode == "payment" and not customer_id else None,
            customer_email=params.get("customer_email") or None,
            discounts=discounts or None,
            expires_at=as_int(params, "expires_at", now + SESSION_LIFETIME),
            locale=params.get("locale") or None,
            metadata=merge_metadata({}, params.get("metadata")),
            mode=mode,
            payment_method_collection="always" if mode == "subscription" else None,
            payment_method_types=["card"],
            payment_status="unpaid",
            status="open",
            success_url=success_url,
            total_details={"amount_discount": discount_total, "amount_shipping": 0, "amount_tax": 0},
            ui_mode="hosted",
            url=f"{self.base_url}/c/pay/{session_id}",
        )
        self.save(
            session,
            {
                "line_items": items,
                "discounts": discounts,
                "trial_period_days": as_int(subscription_data, "trial_period_days"),
                "subscription_metadata": subscription_data.get("metadata") or {},
                "payment_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
            },
        )
        return session

    def _discount_source(self, spec: dict) -> dict:
        coupon, promo = self._redeemable(coupon_id=spec.get("coupon"), promotion_code_id=spec.get("promotion_code"))
        return {"coupon": coupon["id"], "promotion_code": promo["id"] if promo else None}

    def _checkout_discount(self, items: list[dict], discounts: list[dict]) -> int:
        """Apply coupons to the line items' totals; returns the whole discount."""
        total = 0
        for source in discounts:
            coupon = self.fetch(source["coupon"], "coupon")
            remaining = coupon["amount_off"]
            for item in items:
                base = item["amount_total"]
                if coupon["percent_off"] is not None:
                    off = int(base * coupon["percent_off"] / 100 + 0.5)
                else:
                    off = min(base, remaining)
                    remaining -= off
                item["amount_discount"] += off
                item["amount_total"] -= off
                total += off
        return total

    def checkout_session_retrieve(self, session_id: str, params: dict) -> dict:
        return self.fetch(session_id, "checkout.session")

    def checkout_session_line_items(self, session_id: str, params: dict) -> dict:
        self.fetch(session_id, "checkout.session")
        items = self.store.internal(session_id)["line_items"]
        return self.page(items, params, f"/v1/checkout/sessions/{session_id}/line_items")

    def checkout_session_list(self, params: dict) -> dict:
        sessions = self.store.all("checkout.session")
        for field in ("customer", "payment_intent", "subscription", "status"):
            if params.get(field):
                sessions = [s for s in sessions if s[field] == params[field]]
        return self.page(sessions, params, "/v1/checkout/sessions")

    def checkout_session_expire(self, session_id: str, params: dict) -> dict:
        session = self.fetch(session_id, "checkout.session")
        if session["status"] != "open":
            raise invalid(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This session has a'
                f' status of "{session["status"]}".'
            )
        session.update(status="expired", url=None)
        self.save(session)
        self.emit("checkout.session.expired", session)
        return session

    def checkout_session_pay(
        self, session_id: str, *, card_number: str, email: str, name: str | None, promotion_code: str = ""
    ) -> dict:
        """What the hosted page does on submit. Raises StripeError (card_error) for a decline, changing nothing."""
        session = self.fetch(session_id, "checkout.session")
        if session["status"] == "open" and self.now(session["customer"]) >= session["expires_at"]:
            self.checkout_session_expire(session_id, {})
            session = self.fetch(session_id, "checkout.session")
        if session["status"] != "open":
            raise invalid("This Checkout Session is no longer active.")
        internal = self.store.internal(session_id)
        if promotion_code:
            self._checkout_apply_promotion_code(session, internal, promotion_code)
        pm = self.payment_method_from_card(card_number, name=name, email=email)
        behaviour = self.store.internal(pm["id"])["behaviour"]
        total = session["amount_total"]
        # A declined card fails before Checkout creates anything else (only 4000…0341 passes this check).
        if behaviour in ("declined", "insufficient_funds") or (
            behaviour == "charges_fail" and total > 0 and not internal["trial_period_days"]
        ):
            code, message = DECLINES[behaviour]
            raise card_error(message, code, keep_changes=False)
        customer_id = session["customer"]
        if customer_id is None:
            customer_id = self.customer_create({"email": email or session["customer_email"] or "", "name": name or ""})[
                "id"
            ]
        self.payment_method_attach(pm["id"], {"customer": customer_id})
        customer = self.fetch(customer_id, "customer")
        discount_ids = [
            self._discount_for(
                coupon_id=source["coupon"],
                promotion_code_id=source["promotion_code"],
                customer=customer_id,
                session=session_id,
            )["id"]
            for source in internal["discounts"]
        ]
        changes = {"customer": customer_id, "status": "complete", "payment_status": "paid", "url": None}
        if session["mode"] == "subscription":
            self.customer_update(customer_id, {"invoice_settings": {"default_payment_method": pm["id"]}})
            recurring = [item for item in internal["line_items"] if item["price"]["type"] == "recurring"]
            one_time = [item for item in internal["line_items"] if item["price"]["type"] != "recurring"]
            params = {
                "customer": customer_id,
                "items": [{"price": item["price"]["id"], "quantity": str(item["quantity"])} for item in recurring],
                "add_invoice_items": [
                    {"price": item["price"]["id"], "quantity": str(item["quantity"])} for item in one_time
                ],
                "default_payment_method": pm["id"],
                "metadata": internal["subscription_metadata"],
                "payment_behavior": "error_if_incomplete",
                "discounts": [{"discount": discount_id} for discount_id in discount_ids],
            }
            if internal["trial_period_days"]:
                params["trial_period_days"] = str(internal["trial_period_days"])
            subscription = self.subscription_create(params)
            changes.update(subscription=subscription["id"], invoice=subscription["latest_invoice"])
            if subscription["status"] == "trialing":
                changes["payment_status"] = "no_payment_required"
        else:
            intent, failure = self.charge_card(
                customer_id=customer_id,
                pm=pm,
                amount=total,
                currency=session["currency"],
                metadata=internal["payment_intent_metadata"],
            )
            if failure:
                raise card_error(failure["message"], failure["code"], keep_changes=False)
            changes["payment_intent"] = intent["id"]
        session = self.fetch(session_id, "checkout.session")
        session.update(changes)
        session["customer_details"] = {
            "address": None,
            "business_name": None,
            "email": customer["email"],
            "individual_name": None,
            "name": customer["name"],
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        self.save(session)
        self.emit("checkout.session.completed", session)
        return session

    def _checkout_apply_promotion_code(self, session: dict, internal: dict, code: str) -> None:
        """A code typed on the hosted page (sessions created with allow_promotion_codes)."""
        if not session["allow_promotion_codes"]:
            raise invalid("This checkout does not accept promotion codes.", param="promotion_code")
        promo = next(
            (p for p in self.store.all("promotion_code") if p["active"] and p["code"].lower() == code.strip().lower()),
            None,
        )
        if promo is None:
            raise invalid("This code is invalid.", param="promotion_code")
        source = self._discount_source({"promotion_code": promo["id"]})
        off = self._checkout_discount(internal["line_items"], [source])
        internal["discounts"] = [*internal["discounts"], source]
        session["amount_total"] -= off
        session["total_details"]["amount_discount"] += off
        session["discounts"] = internal["discounts"]
        self.save(session, internal)

    # --- billing portal -----------------------------------------------------------------------
    def portal_session_create(self, params: dict) -> dict:
        customer = self.fetch(required(params, "customer"), "customer", param="customer")
        session = self.blank("billing_portal.session")
        session_id = random_id("bps")
        session.update(
            id=session_id,
            configuration=params.get("configuration") or "bpc_sandbox_default",
            created=self.now(customer["id"]),
            customer=customer["id"],
            flow=None,
            livemode=False,
            locale=params.get("locale") or None,
            return_url=params.get("return_url") or None,
            url=f"{self.base_url}/p/session/{session_id}",
        )
        self.save(session)
        return session

    def portal_session(self, session_id: str) -> dict:
        return self.fetch(session_id, "billing_portal.session")

    def portal_cancel(self, session_id: str, subscription_id: str) -> dict:
        """The portal's default cancellation: at the end of the period, like Stripe's default configuration."""
        return self._portal_set_cancel_at_period_end(session_id, subscription_id, "true")

    def portal_resume(self, session_id: str, subscription_id: str) -> dict:
        return self._portal_set_cancel_at_period_end(session_id, subscription_id, "false")

    def _portal_set_cancel_at_period_end(self, session_id: str, subscription_id: str, value: str) -> dict:
        # A portal session may only touch its own customer's subscriptions.
        session = self.portal_session(session_id)
        subscription = self.fetch(subscription_id, "subscription")
        if subscription["customer"] != session["customer"]:
            raise StripeError(404, "No such subscription", code="resource_missing")
        return self.subscription_update(subscription_id, {"cancel_at_period_end": value})
