"""Invoices and invoice items: drafting, totals with discounts and customer balance,
finalizing, and collecting payment.

Invoices point at their subscription through `parent.subscription_details` and their
lines through `parent` (API version 2025-03-31, "basil").
"""

from .core import random_id
from .payments import card_error
from .wire import as_bool, as_int, invalid, merge_metadata, required

DAY = 86_400


def money(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount / 100:,.2f}" if currency != "jpy" else f"JPY {amount:,}"


def pricing(price: dict | None, amount: int) -> dict:
    """The `pricing` field of invoice lines and items: the price it came from, or the bare amount."""
    return {
        "price_details": {"price": price["id"], "product": price["product"]} if price else None,
        "type": "price_details",
        "unit_amount_decimal": price["unit_amount_decimal"] if price else str(amount),
    }


class InvoicesMixin:
    # --- invoices ---------------------------------------------------------------------------
    def _line(
        self,
        invoice: dict,
        *,
        amount: int,
        description: str,
        period: tuple[int, int],
        quantity=1,
        price=None,
        subscription=None,
        subscription_item=None,
        invoice_item=None,
        proration=False,
    ) -> dict:
        line = self.blank("line_item")
        line.update(
            id=random_id("il"),
            amount=amount,
            currency=invoice["currency"],
            description=description,
            discount_amounts=[],
            discountable=not proration or amount > 0,
            discounts=[],
            invoice=invoice["id"],
            livemode=False,
            metadata={},
            parent={
                "invoice_item_details": {
                    "invoice_item": invoice_item,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription,
                }
                if invoice_item
                else None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription,
                    "subscription_item": subscription_item,
                }
                if subscription_item and not invoice_item
                else None,
                "type": "invoice_item_details" if invoice_item else "subscription_item_details",
            },
            period={"end": period[1], "start": period[0]},
            pricing=pricing(price, amount),
            quantity=quantity,
            subscription=subscription,
            subtotal=amount,
        )
        return line

    def _invoice_new(
        self,
        *,
        customer_id: str,
        currency: str,
        subscription: dict | None,
        billing_reason: str,
        period: tuple[int, int],
        collection_method: str = "charge_automatically",
    ) -> dict:
        customer = self.fetch(customer_id, "customer", param="customer")
        now = self.now(customer_id)
        invoice = self.blank("invoice")
        invoice.update(
            id=random_id("in"),
            account_country="US",
            account_name="Plateau (Stripe sandbox)",
            auto_advance=True,
            billing_reason=billing_reason,
            collection_method=collection_method,
            created=now,
            currency=currency,
            customer=customer_id,
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_phone=customer["phone"],
            customer_tax_exempt="none",
            default_payment_method=None,
            effective_at=None,
            lines={"data": [], "has_more": False, "object": "list", "url": ""},
            metadata={},
            parent={
                "quote_details": None,
                "subscription_details": {"metadata": subscription["metadata"], "subscription": subscription["id"]},
                "type": "subscription_details",
            }
            if subscription
            else None,
            period_end=period[1],
            period_start=period[0],
            starting_balance=customer["balance"],
            status="draft",
            subscription=subscription["id"] if subscription else None,
            test_clock=customer["test_clock"],
            webhooks_delivered_at=now,
        )
        invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
        return invoice

    def _invoice_totals(self, invoice: dict, discount_ids: list[str]) -> None:
        lines = invoice["lines"]["data"]
        subtotal = sum(line["amount"] for line in lines)
        discount_totals = []
        for discount_id in discount_ids:
            discount = self.store.get(discount_id)
            coupon = self.store.get(discount["source"]["coupon"]) if discount else None
            if not coupon:
                continue
            remaining_off = coupon["amount_off"]
            total_off = 0
            for line in lines:
                base = line["amount"] - sum(d["amount"] for d in line["discount_amounts"])
                if base <= 0 or not line["discountable"]:
                    continue
                if coupon["percent_off"] is not None:
                    off = int(base * coupon["percent_off"] / 100 + 0.5)
                else:
                    off = min(base, remaining_off)
                    remaining_off -= off
                if off:
                    line["discount_amounts"].append({"amount": off, "discount": discount_id})
                    line["discounts"].append(discount_id)
                    total_off += off
            discount_totals.append({"amount": total_off, "discount": discount_id})
        discount_amount = sum(d["amount"] for d in discount_totals)
        total = subtotal - discount_amount
        invoice.update(
            discounts=discount_ids,
            subtotal=subtotal,
            subtotal_excluding_tax=subtotal,
            total=total,
            total_excluding_tax=total,
            total_discount_amounts=discount_totals,
            total_taxes=[],
            total_pretax_credit_amounts=[],
        )

    def _invoice_build(self, invoice: dict, lines: list[dict], discount_ids: list[str]) -> dict:
        """Put lines and pending invoice items on a draft invoice, total it and announce it."""
        pending = [
            item
            for item in self.store.all("invoiceitem")
            if item["customer"] == invoice["customer"]
            and item["invoice"] is None
            and (
                invoice["parent"] is None
                or (item["parent"] or {}).get("subscription_details", {}).get("subscription")
                == invoice["parent"]["subscription_details"]["subscription"]
            )
        ]
        subscription_id = invoice["parent"]["subscription_details"]["subscription"] if invoice["parent"] else None
        for item in reversed(pending):
            item["invoice"] = invoice["id"]
            self.save(item)
            lines.append(
                self._line(
                    invoice,
                    amount=item["amount"],
                    description=item["description"],
                    period=(item["period"]["start"], item["period"]["end"]),
                    quantity=item["quantity"],
                    price=self.store.get(item["pricing"]["price_details"]["price"])
                    if item["pricing"]["price_details"]
                    else None,
                    subscription=subscription_id,
                    invoice_item=item["id"],
                    proration=item["proration"],
                )
            )
        invoice["lines"]["data"] = lines
        self._invoice_totals(invoice, discount_ids)
        customer = self.store.get(invoice["customer"])
        balance = customer["balance"]
        due = invoice["total"]
        if balance < 0 and due > 0:
            applied = min(due, -balance)
            due -= applied
            balance += applied
        elif due < 0:
            balance += due
            due = 0
        invoice.update(
            amount_due=due, amount_remaining=due, ending_balance=balance if balance != customer["balance"] else None
        )
        if balance != customer["balance"]:
            before = dict(customer)
            customer["balance"] = balance
            self.save(customer)
            self.emit("customer.updated", customer, self.changes(before, customer))
        self.save(invoice)
        self.emit("invoice.created", invoice)
        return invoice

    def _invoice_finalize(self, invoice: dict) -> dict:
        customer = self.store.get(invoice["customer"])
        now = self.now(invoice["customer"])
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        self.save(customer)
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            hosted_invoice_url=f"{self.base_url}/i/{invoice['id']}",
            invoice_pdf=f"{self.base_url}/i/{invoice['id']}/pdf",
            effective_at=now,
            due_date=None if invoice["collection_method"] == "charge_automatically" else now + 30 * DAY,
        )
        invoice["status_transitions"]["finalized_at"] = now
        self.save(invoice)
        self.emit("invoice.finalized", invoice)
        if invoice["amount_due"] == 0:
            self._invoice_mark_paid(invoice, None)
        return invoice

    def _invoice_mark_paid(self, invoice: dict, intent: dict | None, *, out_of_band: bool = False) -> None:
        before = {**invoice, "status_transitions": dict(invoice["status_transitions"])}
        now = self.now(invoice["customer"])
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True if intent else invoice["attempted"],
            next_payment_attempt=None,
            auto_advance=False,
        )
        invoice["status_transitions"] = {**invoice["status_transitions"], "paid_at": now}
        self.save(invoice, {"payment_intent": intent["id"] if intent else None, "paid_out_of_band": out_of_band})
        changes = self.changes(before, invoice)
        self.emit("invoice.paid", invoice, changes)
        self.emit("invoice.payment_succeeded", invoice, changes)
        if invoice["parent"]:
            subscription = self.store.get(invoice["parent"]["subscription_details"]["subscription"])
            if subscription and subscription["status"] in ("incomplete", "past_due", "unpaid"):
                self._subscription_set(subscription, status="active")

    def _invoice_attempt(self, invoice: dict, pm: dict | None) -> str | None:
        """Charge an open invoice; returns the decline message, or None once it is paid."""
        if pm is None:
            invoice["attempt_count"] += 1
            invoice["attempted"] = True
            self.save(invoice)
            self.emit("invoice.payment_failed", invoice)
            return "This customer has no attached payment source or default payment method."
        intent, failure = self.charge_card(
            customer_id=invoice["customer"],
            pm=pm,
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            description="Subscription creation"
            if invoice["billing_reason"] == "subscription_create"
            else "Subscription update",
        )
        if failure is None:
            invoice["attempt_count"] += 1
            self._invoice_mark_paid(invoice, intent)
            return None
        before = dict(invoice)
        invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
        self.save(invoice, {"payment_intent": intent["id"]})
        self.emit("invoice.payment_failed", invoice, self.changes(before, invoice))
        return failure["message"]

    # --- invoice API ------------------------------------------------------------------------
    def invoice_create(self, params: dict) -> dict:
        customer_id = self.fetch(required(params, "customer"), "customer", param="customer")["id"]
        now = self.now(customer_id)
        invoice = self._invoice_new(
            customer_id=customer_id,
            currency=params.get("currency", "usd"),
            subscription=None,
            billing_reason="manual",
            period=(now, now),
            collection_method=params.get("collection_method", "charge_automatically"),
        )
        invoice["auto_advance"] = as_bool(params, "auto_advance", False)
        invoice["description"] = params.get("description") or None
        invoice["metadata"] = merge_metadata({}, params.get("metadata"))
        lines = []
        if params.get("pending_invoice_items_behavior", "exclude") != "include":
            invoice["lines"]["data"] = lines
            self._invoice_totals(invoice, [])
            invoice.update(amount_due=invoice["total"], amount_remaining=invoice["total"])
            self.save(invoice)
            self.emit("invoice.created", invoice)
            return invoice
        return self._invoice_build(invoice, lines, self._discounts_param(params, customer=customer_id))

    def invoice_item_create(self, params: dict) -> dict:
        customer_id = self.fetch(required(params, "customer"), "customer", param="customer")["id"]
        now = self.now(customer_id)
        price = None
        quantity = as_int(params, "quantity", 1, minimum=1)
        if params.get("price") or (params.get("pricing") or {}).get("price"):
            price = self.fetch(params.get("price") or params["pricing"]["price"], "price", param="price")
            amount = price["unit_amount"] * quantity
            currency = price["currency"]
        else:
            amount = as_int(params, "amount")
            if amount is None:
                raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
            currency = required(params, "currency").lower()
        invoice_id = params.get("invoice")
        if invoice_id:
            invoice = self.fetch(invoice_id, "invoice", param="invoice")
            if invoice["status"] != "draft":
                raise invalid("You can only add invoice items to draft invoices.", param="invoice")
        item = self.blank("invoiceitem")
        item.update(
            id=random_id("ii"),
            amount=amount,
            currency=currency,
            customer=customer_id,
            date=now,
            description=params.get("description") or (self._product_name(price) if price else None),
            discounts=[],
            invoice=None,
            metadata=merge_metadata({}, params.get("metadata")),
            net_amount=amount,
            parent={"subscription_details": {"subscription": params["subscription"]}, "type": "subscription_details"}
            if params.get("subscription")
            else None,
            period={"end": now, "start": now},
            pricing=pricing(price, amount),
            proration=False,
            quantity=quantity,
            quantity_decimal=str(quantity),
        )
        self.save(item)
        if invoice_id:
            invoice = self.fetch(invoice_id, "invoice")
            item["invoice"] = invoice_id
            self.save(item)
            invoice["lines"]["data"].append(
                self._line(
                    invoice,
                    amount=amount,
                    description=item["description"] or "",
                    period=(now, now),
                    quantity=quantity,
                    price=price,
                    invoice_item=item["id"],
                )
            )
            self._invoice_totals(invoice, invoice["discounts"])
            invoice.update(amount_due=max(invoice["total"], 0), amount_remaining=max(invoice["total"], 0))
            self.save(invoice)
        self.emit("invoiceitem.created", item)
        return item

    def invoice_item_list(self, params: dict) -> dict:
        items = self.store.all("invoiceitem")
        if params.get("customer"):
            items = [i for i in items if i["customer"] == params["customer"]]
        if "pending" in params:
            pending = as_bool(params, "pending")
            items = [i for i in items if (i["invoice"] is None) == pending]
        return self.page(items, params, "/v1/invoiceitems")

    def invoice_item_retrieve(self, item_id: str, params: dict) -> dict:
        return self.fetch(item_id, "invoiceitem")

    def _product_name(self, price: dict) -> str:
        product = self.store.get(price["product"])
        return product["name"] if product else price["id"]

    def invoice_retrieve(self, invoice_id: str, params: dict) -> dict:
        return self.fetch(invoice_id, "invoice")

    def invoice_list(self, params: dict) -> dict:
        invoices = self.store.all("invoice")
        for field in ("customer", "status", "subscription"):
            if params.get(field):
                invoices = [i for i in invoices if self._invoice_field(i, field) == params[field]]
        return self.page(invoices, params, "/v1/invoices")

    @staticmethod
    def _invoice_field(invoice: dict, field: str):
        if field == "subscription":
            return invoice["parent"]["subscription_details"]["subscription"] if invoice["parent"] else None
        return invoice[field]

    def invoice_lines(self, invoice_id: str, params: dict) -> dict:
        invoice = self.fetch(invoice_id, "invoice")
        return self.page(invoice["lines"]["data"], params, f"/v1/invoices/{invoice_id}/lines")

    def invoice_finalize(self, invoice_id: str, params: dict) -> dict:
        invoice = self.fetch(invoice_id, "invoice")
        if invoice["status"] != "draft":
            raise invalid(
                "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
                code="invoice_not_editable",
            )
        return self._invoice_finalize(invoice)

    def invoice_pay(self, invoice_id: str, params: dict) -> dict:
        invoice = self.fetch(invoice_id, "invoice")
        if invoice["status"] == "draft":
            invoice = self._invoice_finalize(invoice)
        if invoice["status"] == "paid":
            raise invalid("Invoice is already paid")
        if invoice["status"] != "open":
            raise invalid(f"You cannot pay this invoice because it is {invoice['status']}.")
        if as_bool(params, "paid_out_of_band"):
            self._invoice_mark_paid(invoice, None, out_of_band=True)
            return self.store.get(invoice_id)
        pm = None
        if params.get("payment_method"):
            pm = self.resolve_payment_method(params["payment_method"])
        elif invoice["parent"]:
            pm = self._customer_payment_method(
                self.store.get(invoice["parent"]["subscription_details"]["subscription"])
            )
        else:
            customer = self.store.get(invoice["customer"])
            pm_id = customer["invoice_settings"]["default_payment_method"]
            pm = self.store.get(pm_id) if pm_id else None
        message = self._invoice_attempt(invoice, pm)
        if message:
            if pm is None:
                raise invalid(message)
            raise card_error(message, "generic_decline")
        return self.store.get(invoice_id)

    def invoice_void(self, invoice_id: str, params: dict) -> dict:
        invoice = self.fetch(invoice_id, "invoice")
        if invoice["status"] not in ("open", "uncollectible"):
            raise invalid(f"You can only void open or uncollectible invoices; this one is {invoice['status']}.")
        return self._invoice_close(invoice, "void", "voided_at", "invoice.voided")

    def invoice_mark_uncollectible(self, invoice_id: str, params: dict) -> dict:
        invoice = self.fetch(invoice_id, "invoice")
        if invoice["status"] != "open":
            raise invalid(f"You can only mark open invoices uncollectible; this one is {invoice['status']}.")
        return self._invoice_close(invoice, "uncollectible", "marked_uncollectible_at", "invoice.marked_uncollectible")

    def _invoice_close(self, invoice: dict, status: str, transition: str, event_type: str) -> dict:
        """Move an invoice to a status where it is no longer collected, stamping the transition time."""
        before = {**invoice, "status_transitions": dict(invoice["status_transitions"])}
        invoice["status"] = status
        invoice["status_transitions"][transition] = self.now(invoice["customer"])
        invoice["next_payment_attempt"] = None
        self.save(invoice)
        self.emit(event_type, invoice, self.changes(before, invoice))
        return invoice
