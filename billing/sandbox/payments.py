"""Cards, payment methods, payment intents, charges and refunds.

Test cards behave as Stripe documents them: 4242… succeeds, 4000 0000 0000 0002 is
declined (also when attached), 4000 0000 0000 0341 attaches but every charge fails,
4000 0000 0000 9995 is declined for insufficient funds, 4000 0000 0000 5126 pays but its
refunds fail afterwards (the refund is answered `succeeded`, then turns `failed` with a
`refund.updated` event, and the charge gets the money back).
"""

import hashlib

from .core import random_id
from .wire import StripeError, as_bool, as_int, invalid, merge_metadata, required

# number -> (brand, behaviour)
TEST_CARDS = {
    "4242424242424242": ("visa", "succeeds"),
    "4000056655665556": ("visa", "succeeds"),
    "5555555555554444": ("mastercard", "succeeds"),
    "4000000000000002": ("visa", "declined"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000000341": ("visa", "charges_fail"),
    "4000000000005126": ("visa", "refunds_fail"),
}
# Stripe's test payment-method tokens, usable wherever a payment method id is.
TEST_TOKENS = {
    "pm_card_visa": "4242424242424242",
    "tok_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "tok_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeCustomerFail": "4000000000000341",
}
DECLINES = {
    "declined": ("generic_decline", "Your card was declined."),
    "charges_fail": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}


def card_error(message: str, decline_code: str, *, extra: dict | None = None, keep_changes: bool = True) -> StripeError:
    return StripeError(
        402,
        message,
        type="card_error",
        code="card_declined",
        decline_code=decline_code,
        extra=extra,
        keep_changes=keep_changes,
    )


class PaymentsMixin:
    # --- payment methods ----------------------------------------------------------------
    def payment_method_from_card(
        self, number: str, *, exp_month: int = 12, exp_year: int = 2034, name=None, email=None
    ):
        number = "".join(ch for ch in str(number) if ch.isdigit())
        if number not in TEST_CARDS:
            raise StripeError(
                402,
                "Your card number is incorrect. Use a Stripe test card such as 4242 4242 4242 4242.",
                type="card_error",
                code="incorrect_number",
                param="card[number]",
            )
        brand, behaviour = TEST_CARDS[number]
        pm = self.blank("payment_method")
        pm.update(
            id=random_id("pm"),
            allow_redisplay="unspecified",
            billing_details={"address": None, "email": email, "name": name, "phone": None, "tax_id": None},
            card={
                "brand": brand,
                "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "US",
                "display_brand": brand,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
                "funding": "credit",
                "generated_from": None,
                "last4": number[-4:],
                "networks": {"available": [brand], "preferred": None},
                "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            created=self.now(),
            customer=None,
            metadata={},
            type="card",
        )
        self.save(pm, {"behaviour": behaviour})
        return pm

    def payment_method_create(self, params: dict) -> dict:
        if params.get("type", "card") != "card":
            raise invalid("The sandbox supports payment methods of type card only.", param="type")
        card = params.get("card") or {}
        number = TEST_TOKENS.get(card.get("token", "")) or card.get("number")
        if not number:
            raise invalid("Missing required param: card.", param="card", code="parameter_missing")
        details = params.get("billing_details") or {}
        pm = self.payment_method_from_card(
            number,
            exp_month=as_int(card, "exp_month", 12),
            exp_year=as_int(card, "exp_year", 2034),
            name=details.get("name") or None,
            email=details.get("email") or None,
        )
        pm["metadata"] = merge_metadata({}, params.get("metadata"))
        return self.save(pm)

    def resolve_payment_method(self, value: str, *, param: str = "payment_method") -> dict:
        """A payment method by id, or a fresh one from one of Stripe's test tokens (pm_card_visa…)."""
        if value in TEST_TOKENS:
            return self.payment_method_from_card(TEST_TOKENS[value])
        return self.fetch(value, "payment_method", param=param)

    def payment_method_retrieve(self, pm_id: str, params: dict) -> dict:
        return self.fetch(pm_id, "payment_method")

    def payment_method_attach(self, pm_id: str, params: dict) -> dict:
        pm = self.resolve_payment_method(pm_id)
        customer = self.fetch(required(params, "customer"), "customer", param="customer")
        if pm["customer"] and pm["customer"] != customer["id"]:
            raise invalid("This PaymentMethod is already attached to a different customer.", param="payment_method")
        behaviour = self.store.internal(pm["id"]).get("behaviour")
        if behaviour == "declined":
            # Stripe checks the card when it is attached; this test card fails that check.
            raise card_error("Your card was declined.", "generic_decline", keep_changes=False)
        pm["customer"] = customer["id"]
        self.save(pm)
        self.emit("payment_method.attached", pm)
        return pm

    def payment_method_detach(self, pm_id: str, params: dict) -> dict:
        pm = self.fetch(pm_id, "payment_method")
        if not pm["customer"]:
            raise invalid("The payment method you provided is not attached to a customer so detachment is impossible.")
        customer = self.fetch(pm["customer"], "customer")
        if customer["invoice_settings"]["default_payment_method"] == pm_id:
            self.customer_update(customer["id"], {"invoice_settings": {"default_payment_method": ""}})
        pm["customer"] = None
        self.save(pm)
        self.emit("payment_method.detached", pm, {"customer": customer["id"]})
        return pm

    def customer_payment_methods(self, customer_id: str, params: dict) -> dict:
        return self.payment_method_list({**params, "customer": customer_id})

    def payment_method_list(self, params: dict) -> dict:
        customer_id = params.get("customer")
        if customer_id:
            self.fetch(customer_id, "customer", param="customer")
        methods = [pm for pm in self.store.all("payment_method") if customer_id and pm["customer"] == customer_id]
        url = f"/v1/customers/{customer_id}/payment_methods" if customer_id else "/v1/payment_methods"
        return self.page(methods, params, url)

    # --- charging -------------------------------------------------------------------------
    def charge_card(
        self,
        *,
        customer_id: str | None,
        pm: dict,
        amount: int,
        currency: str,
        description: str | None = None,
        metadata: dict | None = None,
        intent: dict | None = None,
    ) -> tuple[dict, dict | None]:
        """Attempt one card payment. Returns the payment intent and the failure (None on success)."""
        now = self.now(customer_id)
        if intent is None:
            intent = self.blank("payment_intent")
            intent.update(
                id=random_id("pi"),
                amount=amount,
                automatic_payment_methods=None,
                created=now,
                currency=currency,
                customer=customer_id,
                description=description,
                metadata=metadata or {},
                payment_method_types=["card"],
                status="requires_payment_method",
            )
            intent["client_secret"] = f"{intent['id']}_secret_{random_id('s').split('_')[1]}"
            self.save(intent)
            self.emit("payment_intent.created", intent)
        behaviour = self.store.internal(pm["id"]).get("behaviour", "succeeds")
        failure = DECLINES.get(behaviour)
        charge = self.blank("charge")
        charge.update(
            id=random_id("ch"),
            amount=amount,
            amount_captured=0 if failure else amount,
            amount_refunded=0,
            balance_transaction=None,
            billing_details=pm["billing_details"],
            calculated_statement_descriptor="PLATEAU",
            captured=not failure,
            created=now,
            currency=currency,
            customer=customer_id,
            description=description,
            failure_code="card_declined" if failure else None,
            failure_message=failure[1] if failure else None,
            metadata=metadata or {},
            outcome={
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network" if failure else "approved_by_network",
                "reason": failure[0] if failure else None,
                "risk_level": "normal",
                "risk_score": 20,
                "seller_message": "The bank did not return any further details with this decline."
                if failure
                else "Payment complete.",
                "type": "issuer_declined" if failure else "authorized",
            },
            paid=not failure,
            payment_intent=intent["id"],
            payment_method=pm["id"],
            payment_method_details={
                "card": {
                    "amount_authorized": None if failure else amount,
                    "authorization_code": None,
                    "brand": pm["card"]["brand"],
                    "checks": pm["card"]["checks"],
                    "country": "US",
                    "exp_month": pm["card"]["exp_month"],
                    "exp_year": pm["card"]["exp_year"],
                    "extended_authorization": None,
                    "fingerprint": pm["card"]["fingerprint"],
                    "funding": "credit",
                    "incremental_authorization": None,
                    "installments": None,
                    "last4": pm["card"]["last4"],
                    "mandate": None,
                    "multicapture": None,
                    "network": pm["card"]["brand"],
                    "network_token": None,
                    "network_transaction_id": None,
                    "overcapture": None,
                    "regulated_status": "unregulated",
                    "three_d_secure": None,
                    "transaction_link_id": None,
                    "wallet": None,
                },
                "type": "card",
            },
            receipt_url=f"{self.base_url}/receipts/{intent['id']}",
            refunded=False,
            refunds={"data": [], "has_more": False, "object": "list", "url": ""},
            status="failed" if failure else "succeeded",
        )
        charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
        self.save(charge)
        before = dict(intent)
        intent.update(latest_charge=charge["id"], payment_method=pm["id"])
        if failure:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "charge": charge["id"],
                "code": "card_declined",
                "decline_code": failure[0],
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": failure[1],
                "payment_method": pm,
                "type": "card_error",
            }
            self.save(intent)
            self.emit("charge.failed", charge)
            self.emit("payment_intent.payment_failed", intent, self.changes(before, intent))
            return intent, {"code": failure[0], "message": failure[1], "charge": charge["id"]}
        intent.update(status="succeeded", amount_received=amount, last_payment_error=None)
        self.save(intent)
        self.emit("charge.succeeded", charge)
        self.emit("payment_intent.succeeded", intent, self.changes(before, intent))
        return intent, None

    # --- payment intents --------------------------------------------------------------------
    def payment_intent_create(self, params: dict) -> dict:
        amount = as_int(params, "amount", minimum=1)
        if amount is None:
            raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
        if params.get("capture_method", "automatic") not in ("automatic", "automatic_async"):
            raise invalid("The sandbox supports capture_method=automatic only.", param="capture_method")
        customer_id = params.get("customer") or None
        if customer_id:
            self.fetch(customer_id, "customer", param="customer")
        intent = self.blank("payment_intent")
        intent.update(
            id=random_id("pi"),
            amount=amount,
            automatic_payment_methods=None,
            created=self.now(customer_id),
            currency=required(params, "currency").lower(),
            customer=customer_id,
            description=params.get("description") or None,
            metadata=merge_metadata({}, params.get("metadata")),
            payment_method_types=["card"],
            receipt_email=params.get("receipt_email") or None,
            status="requires_payment_method",
        )
        intent["client_secret"] = f"{intent['id']}_secret_{random_id('s').split('_')[1]}"
        if params.get("payment_method"):
            pm = self.resolve_payment_method(params["payment_method"])
            intent.update(payment_method=pm["id"], status="requires_confirmation")
        self.save(intent)
        self.emit("payment_intent.created", intent)
        if as_bool(params, "confirm"):
            return self.payment_intent_confirm(intent["id"], {})
        return intent

    def payment_intent_confirm(self, intent_id: str, params: dict) -> dict:
        intent = self.fetch(intent_id, "payment_intent")
        if intent["status"] in ("succeeded", "canceled"):
            raise invalid(
                f"This PaymentIntent's status is {intent['status']}, so it cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        pm_id = params.get("payment_method") or intent["payment_method"]
        if not pm_id:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        pm = self.resolve_payment_method(pm_id)
        intent, failure = self.charge_card(
            customer_id=intent["customer"],
            pm=pm,
            amount=intent["amount"],
            currency=intent["currency"],
            description=intent["description"],
            metadata=intent["metadata"],
            intent=intent,
        )
        if failure:
            raise card_error(
                failure["message"], failure["code"], extra={"payment_intent": intent, "charge": failure["charge"]}
            )
        return intent

    def payment_intent_retrieve(self, intent_id: str, params: dict) -> dict:
        return self.fetch(intent_id, "payment_intent")

    def payment_intent_update(self, intent_id: str, params: dict) -> dict:
        intent = self.fetch(intent_id, "payment_intent")
        if "amount" in params:
            if intent["status"] == "succeeded":
                raise invalid("This PaymentIntent's amount could not be updated because it has a status of succeeded.")
            intent["amount"] = as_int(params, "amount", minimum=1)
        if "description" in params:
            intent["description"] = params["description"] or None
        intent["metadata"] = merge_metadata(intent["metadata"], params.get("metadata"))
        return self.save(intent)

    def payment_intent_cancel(self, intent_id: str, params: dict) -> dict:
        intent = self.fetch(intent_id, "payment_intent")
        if intent["status"] == "succeeded":
            raise invalid(
                "You cannot cancel this PaymentIntent because it has a status of succeeded.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            canceled_at=self.now(intent["customer"]),
            cancellation_reason=params.get("cancellation_reason"),
        )
        self.save(intent)
        self.emit("payment_intent.canceled", intent)
        return intent

    def payment_intent_list(self, params: dict) -> dict:
        intents = self.store.all("payment_intent")
        if params.get("customer"):
            intents = [i for i in intents if i["customer"] == params["customer"]]
        return self.page(intents, params, "/v1/payment_intents")

    # --- charges and refunds ----------------------------------------------------------------
    def charge_retrieve(self, charge_id: str, params: dict) -> dict:
        return self.fetch(charge_id, "charge")

    def charge_list(self, params: dict) -> dict:
        charges = self.store.all("charge")
        for field in ("customer", "payment_intent"):
            if params.get(field):
                charges = [c for c in charges if c[field] == params[field]]
        return self.page(charges, params, "/v1/charges")

    def refund_create(self, params: dict) -> dict:
        if params.get("charge"):
            charge = self.fetch(params["charge"], "charge", param="charge")
        elif params.get("payment_intent"):
            intent = self.fetch(params["payment_intent"], "payment_intent", param="payment_intent")
            if not intent["latest_charge"] or intent["status"] != "succeeded":
                raise invalid(
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = self.fetch(intent["latest_charge"], "charge")
        else:
            raise invalid("One of the following params should be provided for this request: payment_intent or charge.")
        refundable = charge["amount_captured"] - charge["amount_refunded"]
        if charge["status"] != "succeeded":
            raise invalid(f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge")
        if refundable <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = as_int(params, "amount", refundable, minimum=1)
        if amount > refundable:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable})",
                param="amount",
                code="amount_too_large",
            )
        reason = params.get("reason") or None
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise invalid(f"Invalid reason: {reason}", param="reason")
        refund = self.blank("refund")
        refund.update(
            id=random_id("re"),
            amount=amount,
            charge=charge["id"],
            created=self.now(charge["customer"]),
            currency=charge["currency"],
            destination_details=None,
            metadata=merge_metadata({}, params.get("metadata")),
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="succeeded",
        )
        self.save(refund)
        before = dict(charge)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        charge["refunds"] = {
            "data": [r for r in self.store.all("refund") if r["charge"] == charge["id"]],
            "has_more": False,
            "object": "list",
            "url": f"/v1/charges/{charge['id']}/refunds",
        }
        self.save(charge)
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge, self.changes(before, charge))
        answered = dict(refund)
        if self.store.internal(charge.get("payment_method") or "").get("behaviour") == "refunds_fail":
            self._refund_fail(refund, charge)
        return answered

    def _refund_fail(self, refund: dict, charge: dict) -> None:
        """What Stripe does later with a refund to a card that cannot take it: failed, money back on the charge."""
        before_refund = dict(refund)
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        self.save(refund)
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        charge["refunds"] = {
            **charge["refunds"],
            "data": [r for r in self.store.all("refund") if r["charge"] == charge["id"]],
        }
        self.save(charge)
        self.emit("refund.updated", refund, self.changes(before_refund, refund))
        self.emit("refund.failed", refund, self.changes(before_refund, refund))

    def refund_retrieve(self, refund_id: str, params: dict) -> dict:
        return self.fetch(refund_id, "refund")

    def refund_update(self, refund_id: str, params: dict) -> dict:
        refund = self.fetch(refund_id, "refund")
        refund["metadata"] = merge_metadata(refund["metadata"], params.get("metadata"))
        return self.save(refund)

    def refund_list(self, params: dict) -> dict:
        refunds = self.store.all("refund")
        for field in ("charge", "payment_intent"):
            if params.get(field):
                refunds = [r for r in refunds if r[field] == params[field]]
        return self.page(refunds, params, "/v1/refunds")
