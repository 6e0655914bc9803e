"""Account, customers, products, prices, coupons, promotion codes, webhook endpoints, events."""

import secrets

from .core import random_id
from .wire import StripeError, as_bool, as_int, as_list, invalid, merge_metadata, required

CURRENCIES = {"usd", "eur", "gbp", "cad", "aud", "chf", "jpy", "sek", "nok", "dkk", "pln"}
INTERVALS = {"day", "week", "month", "year"}


def _currency(params: dict) -> str:
    currency = str(required(params, "currency")).lower()
    if currency not in CURRENCIES:
        raise invalid(f"Invalid currency: {currency}.", param="currency")
    return currency


class CatalogMixin:
    # --- account ----------------------------------------------------------------------
    def account_retrieve(self, params: dict) -> dict:
        account = self.store.get(self.store.meta_get("account_id", "")) if self.store.meta_get("account_id") else None
        if account is None:
            account = self.blank("account")
            account.update(
                id=random_id("acct", 16),
                business_profile={
                    "annual_revenue": None,
                    "estimated_worker_count": None,
                    "mcc": None,
                    "minority_owned_business_designation": None,
                    "name": "Plateau (Stripe sandbox)",
                    "product_description": None,
                    "support_address": None,
                    "support_email": None,
                    "support_phone": None,
                    "support_url": None,
                    "url": None,
                },
                business_type="company",
                capabilities={"card_payments": "active", "transfers": "active"},
                charges_enabled=True,
                country="US",
                created=self.now(),
                default_currency="usd",
                details_submitted=True,
                email="sandbox@plateau.test",
                payouts_enabled=True,
                type="standard",
            )
            self.save(account)
            self.store.meta_set("account_id", account["id"])
        return account

    def connected_account_list(self, params: dict) -> dict:
        """The sandbox is one platform account without Connect, so it has no connected accounts."""
        return self.page([], params, "/v1/accounts")

    def connected_account_retrieve(self, account_id: str, params: dict) -> dict:
        account = self.account_retrieve(params)
        if account_id != account["id"]:
            raise StripeError(404, f"No such account: '{account_id}'", code="resource_missing", param="account")
        return account

    # --- customers --------------------------------------------------------------------
    def customer_create(self, params: dict) -> dict:
        customer = self.blank("customer")
        clock = params.get("test_clock")
        if clock:
            self.fetch(clock, "test_helpers.test_clock", param="test_clock")
        customer.update(
            id=random_id("cus", 14),
            balance=0,
            created=self.now(),
            delinquent=False,
            next_invoice_sequence=1,
            tax_exempt="none",
            email=params.get("email") or None,
            name=params.get("name") or None,
            phone=params.get("phone") or None,
            description=params.get("description") or None,
            invoice_prefix=secrets.token_hex(4).upper(),
            invoice_settings={
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            metadata=merge_metadata({}, params.get("metadata")),
            preferred_locales=as_list(params, "preferred_locales"),
            test_clock=clock or None,
        )
        self.save(customer)
        self.emit("customer.created", customer)
        if params.get("payment_method"):
            self.payment_method_attach(params["payment_method"], {"customer": customer["id"]})
        default_pm = (params.get("invoice_settings") or {}).get("default_payment_method")
        if default_pm:
            return self.customer_update(customer["id"], {"invoice_settings": {"default_payment_method": default_pm}})
        return self.store.get(customer["id"])

    def customer_retrieve(self, customer_id: str, params: dict) -> dict:
        customer = self.store.get(customer_id)
        if customer is None or customer.get("object") != "customer":
            raise StripeError(404, f"No such customer: '{customer_id}'", code="resource_missing", param="id")
        return customer

    def customer_update(self, customer_id: str, params: dict) -> dict:
        customer = self.fetch(customer_id, "customer")
        before = {**customer, "invoice_settings": dict(customer["invoice_settings"])}
        for field in ("email", "name", "phone", "description"):
            if field in params:
                customer[field] = params[field] or None
        customer["metadata"] = merge_metadata(customer["metadata"], params.get("metadata"))
        settings = params.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            pm_id = settings["default_payment_method"] or None
            if pm_id:
                pm = self.fetch(pm_id, "payment_method", param="invoice_settings[default_payment_method]")
                if pm["customer"] != customer_id:
                    raise invalid(
                        f"The customer does not have a payment method with the ID {pm_id}. The payment method"
                        " must be attached to the customer.",
                        param="invoice_settings[default_payment_method]",
                    )
            customer["invoice_settings"]["default_payment_method"] = pm_id
        self.save(customer)
        previous = self.changes(before, customer)
        if previous:
            self.emit("customer.updated", customer, previous)
        return customer

    def customer_delete(self, customer_id: str, params: dict) -> dict:
        customer = self.fetch(customer_id, "customer")
        for subscription in self.store.all("subscription"):
            if subscription["customer"] == customer_id and subscription["status"] not in (
                "canceled",
                "incomplete_expired",
            ):
                self.subscription_cancel(subscription["id"], {})
        stub = self.tombstone(customer_id, "customer")
        self.emit("customer.deleted", customer)
        return stub

    def customer_list(self, params: dict) -> dict:
        customers = self.store.all("customer")
        if params.get("email"):
            customers = [c for c in customers if c["email"] == params["email"]]
        if params.get("test_clock"):
            customers = [c for c in customers if c["test_clock"] == params["test_clock"]]
        return self.page(customers, params, "/v1/customers")

    def customer_sources(self, customer_id: str, params: dict) -> dict:
        """Legacy sources (cards as sources, bank accounts) are not modelled: payment methods are."""
        self.fetch(customer_id, "customer")
        return self.page([], params, f"/v1/customers/{customer_id}/sources")

    def customer_tax_ids(self, customer_id: str, params: dict) -> dict:
        self.fetch(customer_id, "customer")
        return self.page([], params, f"/v1/customers/{customer_id}/tax_ids")

    # --- products ---------------------------------------------------------------------
    def product_create(self, params: dict) -> dict:
        product = self.blank("product")
        product.update(
            id=params.get("id") or random_id("prod", 14),
            active=as_bool(params, "active", True),
            created=self.now(),
            updated=self.now(),
            default_price=None,
            description=params.get("description") or None,
            images=as_list(params, "images"),
            marketing_features=[],
            metadata=merge_metadata({}, params.get("metadata")),
            name=required(params, "name"),
            statement_descriptor=params.get("statement_descriptor") or None,
            unit_label=params.get("unit_label") or None,
            url=params.get("url") or None,
            type="service",
        )
        if self.store.get(product["id"]):
            raise invalid(f"Product already exists: {product['id']}", param="id", code="resource_already_exists")
        self.save(product)
        self.emit("product.created", product)
        if params.get("default_price_data"):
            price = self.price_create({**params["default_price_data"], "product": product["id"]})
            product = self.product_update(product["id"], {"default_price": price["id"]})
        return product

    def product_retrieve(self, product_id: str, params: dict) -> dict:
        return self.fetch(product_id, "product")

    def product_update(self, product_id: str, params: dict) -> dict:
        product = self.fetch(product_id, "product")
        before = dict(product)
        for field in ("name", "description", "statement_descriptor", "unit_label", "url"):
            if field in params:
                product[field] = params[field] or None
        if "active" in params:
            product["active"] = as_bool(params, "active")
        if "default_price" in params:
            if params["default_price"]:
                self.fetch(params["default_price"], "price", param="default_price")
            product["default_price"] = params["default_price"] or None
        product["metadata"] = merge_metadata(product["metadata"], params.get("metadata"))
        product["updated"] = self.now()
        self.save(product)
        previous = self.changes(before, product)
        if previous:
            self.emit("product.updated", product, previous)
        return product

    def product_delete(self, product_id: str, params: dict) -> dict:
        product = self.fetch(product_id, "product")
        if any(price["product"] == product_id for price in self.store.all("price")):
            raise invalid("This product cannot be deleted because it has one or more user-created prices.")
        stub = self.tombstone(product_id, "product")
        self.emit("product.deleted", product)
        return stub

    def product_list(self, params: dict) -> dict:
        products = self.store.all("product")
        if "active" in params:
            products = [p for p in products if p["active"] == as_bool(params, "active")]
        return self.page(products, params, "/v1/products")

    # --- entitlement features and the products that grant them ---------------------------
    def entitlement_feature_create(self, params: dict) -> dict:
        lookup_key = required(params, "lookup_key")
        if any(f["lookup_key"] == lookup_key for f in self.store.all("entitlements.feature")):
            raise invalid(
                f"A feature with the lookup_key `{lookup_key}` already exists.",
                param="lookup_key",
                code="resource_already_exists",
            )
        feature = self.blank("entitlements.feature")
        feature.update(
            id=random_id("feat_test", 32),
            lookup_key=lookup_key,
            metadata=merge_metadata({}, params.get("metadata")),
            name=required(params, "name"),
        )
        return self.save(feature)

    def entitlement_feature_retrieve(self, feature_id: str, params: dict) -> dict:
        return self.fetch(feature_id, "entitlements.feature")

    def entitlement_feature_update(self, feature_id: str, params: dict) -> dict:
        feature = self.fetch(feature_id, "entitlements.feature")
        if "name" in params:
            feature["name"] = required(params, "name")
        if "active" in params:
            feature["active"] = as_bool(params, "active")
        feature["metadata"] = merge_metadata(feature["metadata"], params.get("metadata"))
        return self.save(feature)

    def entitlement_feature_list(self, params: dict) -> dict:
        features = self.store.all("entitlements.feature")
        if params.get("lookup_key"):
            features = [f for f in features if f["lookup_key"] == params["lookup_key"]]
        if "archived" in params:
            features = [f for f in features if f["active"] != as_bool(params, "archived")]
        return self.page(features, params, "/v1/entitlements/features")

    def _product_feature_view(self, attachment: dict) -> dict:
        """Stripe always shows the attached feature in full, as it is now."""
        return {**attachment, "entitlement_feature": self.store.get(attachment["entitlement_feature"])}

    def _product_features(self, product_id: str) -> list[dict]:
        return [
            attachment
            for attachment in self.store.all("product_feature")
            if self.store.internal(attachment["id"]).get("product") == product_id
        ]

    def product_feature_create(self, product_id: str, params: dict) -> dict:
        self.fetch(product_id, "product")
        feature = self.fetch(
            required(params, "entitlement_feature"), "entitlements.feature", param="entitlement_feature"
        )
        if any(a["entitlement_feature"] == feature["id"] for a in self._product_features(product_id)):
            raise invalid(
                f"The feature {feature['id']} is already attached to product {product_id}.",
                param="entitlement_feature",
            )
        attachment = self.blank("product_feature")
        attachment.update(id=random_id("prodft", 14), entitlement_feature=feature["id"])
        self.save(attachment, {"product": product_id})
        return self._product_feature_view(attachment)

    def product_feature_list(self, product_id: str, params: dict) -> dict:
        self.fetch(product_id, "product")
        attachments = [self._product_feature_view(a) for a in self._product_features(product_id)]
        return self.page(attachments, params, f"/v1/products/{product_id}/features")

    def _product_feature(self, product_id: str, attachment_id: str) -> dict:
        self.fetch(product_id, "product")
        attachment = self.store.get(attachment_id)
        if (
            attachment is None
            or attachment.get("object") != "product_feature"
            or attachment.get("deleted")
            or self.store.internal(attachment_id).get("product") != product_id
        ):
            raise StripeError(404, f"No such product feature: '{attachment_id}'", code="resource_missing", param="id")
        return attachment

    def product_feature_retrieve(self, product_id: str, attachment_id: str, params: dict) -> dict:
        return self._product_feature_view(self._product_feature(product_id, attachment_id))

    def product_feature_delete(self, product_id: str, attachment_id: str, params: dict) -> dict:
        self._product_feature(product_id, attachment_id)
        self.store.delete(attachment_id)
        return {"deleted": True, "id": attachment_id, "object": "product_feature"}

    # --- prices -----------------------------------------------------------------------
    def price_create(self, params: dict) -> dict:
        if params.get("product_data"):
            product_id = self.product_create(params["product_data"])["id"]
        else:
            product_id = self.fetch(required(params, "product"), "product", param="product")["id"]
        unit_amount = as_int(params, "unit_amount", minimum=0)
        if unit_amount is None:
            raise invalid("Missing required param: unit_amount.", param="unit_amount", code="parameter_missing")
        recurring = None
        if params.get("recurring"):
            interval = params["recurring"].get("interval")
            if interval not in INTERVALS:
                raise invalid(f"Invalid recurring[interval]: {interval}", param="recurring[interval]")
            recurring = {
                "interval": interval,
                "interval_count": as_int(params["recurring"], "interval_count", 1, minimum=1),
                "meter": None,
                "trial_period_days": as_int(params["recurring"], "trial_period_days"),
                "usage_type": params["recurring"].get("usage_type", "licensed"),
            }
        lookup_key = params.get("lookup_key") or None
        if lookup_key:
            self._claim_lookup_key(lookup_key, as_bool(params, "transfer_lookup_key"))
        price = self.blank("price")
        price.update(
            id=random_id("price"),
            active=as_bool(params, "active", True),
            created=self.now(),
            currency=_currency(params),
            custom_unit_amount=None,
            lookup_key=lookup_key,
            metadata=merge_metadata({}, params.get("metadata")),
            nickname=params.get("nickname") or None,
            product=product_id,
            recurring=recurring,
            tax_behavior=params.get("tax_behavior", "unspecified"),
            transform_quantity=None,
            type="recurring" if recurring else "one_time",
            unit_amount=unit_amount,
            unit_amount_decimal=str(unit_amount),
        )
        self.save(price)
        self.emit("price.created", price)
        return price

    def _claim_lookup_key(self, lookup_key: str, transfer: bool) -> None:
        for other in self.store.all("price"):
            if other["lookup_key"] == lookup_key:
                if not transfer:
                    raise invalid(
                        f"A price (`{other['id']}`) already uses that lookup key.",
                        param="lookup_key",
                    )
                before = dict(other)
                other["lookup_key"] = None
                self.save(other)
                self.emit("price.updated", other, self.changes(before, other))

    def price_retrieve(self, price_id: str, params: dict) -> dict:
        return self.fetch(price_id, "price")

    def price_update(self, price_id: str, params: dict) -> dict:
        price = self.fetch(price_id, "price")
        before = dict(price)
        if "lookup_key" in params:
            if params["lookup_key"]:
                self._claim_lookup_key(params["lookup_key"], as_bool(params, "transfer_lookup_key"))
                price = self.fetch(price_id, "price")
            price["lookup_key"] = params["lookup_key"] or None
        if "active" in params:
            price["active"] = as_bool(params, "active")
        if "nickname" in params:
            price["nickname"] = params["nickname"] or None
        price["metadata"] = merge_metadata(price["metadata"], params.get("metadata"))
        self.save(price)
        previous = self.changes(before, price)
        if previous:
            self.emit("price.updated", price, previous)
        return price

    def price_list(self, params: dict) -> dict:
        prices = self.store.all("price")
        if "active" in params:
            prices = [p for p in prices if p["active"] == as_bool(params, "active")]
        if params.get("product"):
            prices = [p for p in prices if p["product"] == params["product"]]
        if params.get("type"):
            prices = [p for p in prices if p["type"] == params["type"]]
        if params.get("currency"):
            prices = [p for p in prices if p["currency"] == params["currency"]]
        lookup_keys = as_list(params, "lookup_keys")
        if lookup_keys:
            prices = [p for p in prices if p["lookup_key"] in lookup_keys]
        return self.page(prices, params, "/v1/prices")

    # --- coupons and promotion codes ------------------------------------------------------
    def coupon_create(self, params: dict) -> dict:
        percent_off = params.get("percent_off")
        amount_off = as_int(params, "amount_off", minimum=1)
        if (percent_off is None) == (amount_off is None):
            raise invalid("You must pass exactly one of `amount_off` or `percent_off`.")
        if percent_off is not None:
            try:
                percent_off = float(percent_off)
            except ValueError:
                raise invalid(f"Invalid decimal: {percent_off}", param="percent_off") from None
            if not 0 < percent_off <= 100:
                raise invalid("Percent off must be between 0 and 100.", param="percent_off")
        duration = params.get("duration", "once")
        if duration not in ("once", "repeating", "forever"):
            raise invalid(f"Invalid duration: {duration}", param="duration")
        months = as_int(params, "duration_in_months", minimum=1)
        if duration == "repeating" and months is None:
            raise invalid("You must pass duration_in_months when duration is repeating.", param="duration_in_months")
        coupon = self.blank("coupon")
        coupon.update(
            id=params.get("id") or random_id("co", 8).split("_")[1].upper(),
            amount_off=amount_off,
            created=self.now(),
            currency=_currency(params) if amount_off is not None else None,
            duration=duration,
            duration_in_months=months if duration == "repeating" else None,
            max_redemptions=as_int(params, "max_redemptions", minimum=1),
            metadata=merge_metadata({}, params.get("metadata")),
            name=params.get("name") or None,
            percent_off=percent_off,
            redeem_by=as_int(params, "redeem_by"),
            times_redeemed=0,
            valid=True,
        )
        if self.store.get(coupon["id"]):
            raise invalid("Coupon already exists.", param="id", code="resource_already_exists")
        self.save(coupon)
        self.emit("coupon.created", coupon)
        return coupon

    def coupon_retrieve(self, coupon_id: str, params: dict) -> dict:
        return self.fetch(coupon_id, "coupon")

    def coupon_delete(self, coupon_id: str, params: dict) -> dict:
        coupon = self.fetch(coupon_id, "coupon")
        stub = self.tombstone(coupon_id, "coupon")
        self.emit("coupon.deleted", coupon)
        return stub

    def coupon_list(self, params: dict) -> dict:
        return self.page(self.store.all("coupon"), params, "/v1/coupons")

    def promotion_code_create(self, params: dict) -> dict:
        promotion = params.get("promotion") or {}
        coupon_id = promotion.get("coupon") or params.get("coupon")
        coupon = self.fetch(
            required({"promotion[coupon]": coupon_id}, "promotion[coupon]"), "coupon", param="promotion[coupon]"
        )
        code = params.get("code") or secrets.token_hex(4).upper()
        if any(p["code"].lower() == code.lower() and p["active"] for p in self.store.all("promotion_code")):
            raise invalid("An active promotion code with `code` already exists.", param="code")
        restrictions = params.get("restrictions") or {}
        promo = self.blank("promotion_code")
        promo.update(
            id=random_id("promo"),
            active=as_bool(params, "active", True),
            code=code,
            created=self.now(),
            customer=params.get("customer") or None,
            expires_at=as_int(params, "expires_at"),
            max_redemptions=as_int(params, "max_redemptions", minimum=1),
            metadata=merge_metadata({}, params.get("metadata")),
            promotion={"coupon": coupon["id"], "type": "coupon"},
            restrictions={
                "first_time_transaction": as_bool(restrictions, "first_time_transaction"),
                "minimum_amount": as_int(restrictions, "minimum_amount"),
                "minimum_amount_currency": restrictions.get("minimum_amount_currency") or None,
            },
            times_redeemed=0,
        )
        self.save(promo)
        self.emit("promotion_code.created", promo)
        return promo

    def promotion_code_retrieve(self, promo_id: str, params: dict) -> dict:
        return self.fetch(promo_id, "promotion_code")

    def promotion_code_update(self, promo_id: str, params: dict) -> dict:
        promo = self.fetch(promo_id, "promotion_code")
        before = dict(promo)
        if "active" in params:
            promo["active"] = as_bool(params, "active")
        promo["metadata"] = merge_metadata(promo["metadata"], params.get("metadata"))
        self.save(promo)
        previous = self.changes(before, promo)
        if previous:
            self.emit("promotion_code.updated", promo, previous)
        return promo

    def promotion_code_list(self, params: dict) -> dict:
        promos = self.store.all("promotion_code")
        if params.get("code"):
            promos = [p for p in promos if p["code"].lower() == params["code"].lower()]
        if "active" in params:
            promos = [p for p in promos if p["active"] == as_bool(params, "active")]
        return self.page(promos, params, "/v1/promotion_codes")

    # --- webhook endpoints and events ---------------------------------------------------
    def webhook_endpoint_create(self, params: dict) -> dict:
        url = required(params, "url")
        if not url.startswith(("http://", "https://")):
            raise invalid("Invalid URL: must be http or https.", param="url", code="url_invalid")
        events = as_list(params, "enabled_events")
        if not events:
            raise invalid("Missing required param: enabled_events.", param="enabled_events", code="parameter_missing")
        endpoint = self.blank("webhook_endpoint")
        endpoint.update(
            id=random_id("we"),
            api_version=params.get("api_version") or None,
            created=self.now(),
            description=params.get("description") or None,
            enabled_events=events,
            metadata=merge_metadata({}, params.get("metadata")),
            status="enabled",
            url=url,
        )
        secret = "whsec_" + secrets.token_urlsafe(24).replace("-", "").replace("_", "")
        self.save(endpoint, {"secret": secret})
        # Stripe reveals the signing secret only in the response that creates the endpoint.
        return {**endpoint, "secret": secret}

    def webhook_endpoint_retrieve(self, endpoint_id: str, params: dict) -> dict:
        return self.fetch(endpoint_id, "webhook_endpoint")

    def webhook_endpoint_update(self, endpoint_id: str, params: dict) -> dict:
        endpoint = self.fetch(endpoint_id, "webhook_endpoint")
        if "url" in params:
            endpoint["url"] = required(params, "url")
        if "enabled_events" in params:
            endpoint["enabled_events"] = as_list(params, "enabled_events")
        if "disabled" in params:
            endpoint["status"] = "disabled" if as_bool(params, "disabled") else "enabled"
        if "description" in params:
            endpoint["description"] = params["description"] or None
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params.get("metadata"))
        return self.save(endpoint)

    def webhook_endpoint_delete(self, endpoint_id: str, params: dict) -> dict:
        self.fetch(endpoint_id, "webhook_endpoint")
        stub = self.tombstone(endpoint_id, "webhook_endpoint")
        return stub

    def webhook_endpoint_list(self, params: dict) -> dict:
        return self.page(self.store.all("webhook_endpoint"), params, "/v1/webhook_endpoints")

    def event_retrieve(self, event_id: str, params: dict) -> dict:
        return self.fetch(event_id, "event")

    def event_list(self, params: dict) -> dict:
        events = self.store.all("event")
        if params.get("type"):
            pattern = params["type"]
            if pattern.endswith("*"):
                events = [e for e in events if e["type"].startswith(pattern[:-1])]
            else:
                events = [e for e in events if e["type"] == pattern]
        types = as_list(params, "types")
        if types:
            events = [e for e in events if e["type"] in types]
        return self.page(events, params, "/v1/events")
