"""The hosted pages: checkout, billing portal, invoice. Plain HTML, no JavaScript needed."""

from datetime import UTC, datetime
from html import escape

from .invoices import money

STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f8fa;margin:0;color:#1a1f36}
main{max-width:760px;margin:40px auto;background:#fff;border-radius:8px;padding:32px;box-shadow:0 1px 4px #0002}
h1{font-size:22px;margin-top:0} table{width:100%;border-collapse:collapse;margin:16px 0}
td,th{padding:8px;border-bottom:1px solid #e3e8ee;text-align:left} .num{text-align:right}
label{display:block;margin:12px 0 4px;font-weight:600}
input{width:100%;padding:10px;font-size:16px;box-sizing:border-box}
button{margin-top:20px;padding:12px 20px;font-size:16px;background:#635bff;color:#fff;border:0;border-radius:6px}
.error{background:#fde8e8;color:#9b1c1c;padding:12px;border-radius:6px;margin:12px 0} .muted{color:#697386}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;background:#e3e8ee}
"""


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><main>{body}"
        "<p class=muted>Stripe sandbox · test mode · no real money moves</p></main></body></html>"
    )


def _date(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %Y") if timestamp else "—"


def checkout_page(session: dict, items: list[dict], *, error: str | None = None, email: str = "") -> str:
    rows = "".join(
        f"<tr><td>{escape(item['description'])}</td><td class=num>{item['quantity']}</td>"
        f"<td class=num>{money(item['amount_subtotal'], item['currency'])}"
        + (f" / {escape(item['price']['recurring']['interval'])}" if item["price"]["recurring"] else "")
        + "</td></tr>"
        for item in items
    )
    discount = session["total_details"]["amount_discount"]
    if discount:
        rows += f"<tr><td>Discount</td><td></td><td class=num>−{money(discount, session['currency'])}</td></tr>"
    total = money(session["amount_total"], session["currency"])
    if session["status"] != "open":
        return page("Checkout", f"<h1>This checkout session is {escape(session['status'])}.</h1>")
    email = email or session["customer_email"] or ""
    cancel = f"<p><a href='{escape(session['cancel_url'])}'>Cancel and go back</a></p>" if session["cancel_url"] else ""
    action = "Subscribe" if session["mode"] == "subscription" else "Pay"
    error_html = f"<div class=error role=alert data-testid=card-error>{escape(error)}</div>" if error else ""
    email_field = (
        ""
        if session["customer"]
        else f"<label for=email>Email</label><input id=email name=email type=email required value='{escape(email)}'>"
    )
    return page(
        "Checkout",
        f"<h1>Checkout</h1><table><tr><th>Item</th><th class=num>Qty</th><th class=num>Price</th></tr>{rows}"
        f"<tr><th>Total due today</th><th></th><th class=num data-testid=total>{total}</th></tr></table>"
        f"{error_html}<form method=post>{email_field}"
        + (
            "<label for=promotion_code>Promotion code</label><input id=promotion_code name=promotion_code>"
            if session["allow_promotion_codes"]
            else ""
        )
        + "<label for=name>Name on card</label><input id=name name=name>"
        "<label for=card_number>Card number</label>"
        "<input id=card_number name=card_number inputmode=numeric placeholder='4242 4242 4242 4242' required>"
        "<label for=expiry>Expiry</label><input id=expiry name=expiry placeholder='12 / 34' value='12 / 34'>"
        "<label for=cvc>CVC</label><input id=cvc name=cvc placeholder=123 value=123>"
        f"<button type=submit>{action}</button></form>{cancel}",
    )


def portal_page(session: dict, customer: dict, subscriptions: list[dict], invoices: list[dict], names: dict) -> str:
    base = f"/p/session/{session['id']}"
    sub_rows = ""
    for sub in subscriptions:
        item = sub["items"]["data"][0]
        price = item["price"]
        if sub["status"] in ("canceled", "incomplete_expired"):
            action = ""
        elif sub["cancel_at_period_end"]:
            action = (
                f"<form method=post action='{base}/subscriptions/{sub['id']}/resume'>"
                "<button type=submit>Resume subscription</button></form>"
            )
        else:
            action = (
                f"<form method=post action='{base}/subscriptions/{sub['id']}/cancel'>"
                "<button type=submit>Cancel subscription</button></form>"
            )
        note = (
            f"Cancels on {_date(sub['cancel_at'])}"
            if sub["cancel_at_period_end"]
            else f"Renews on {_date(item['current_period_end'])}"
        )
        if sub["status"] in ("canceled", "incomplete_expired"):
            note = f"Ended on {_date(sub['ended_at'])}"
        sub_rows += (
            f"<tr data-testid=subscription><td>{escape(names.get(price['product'], price['product']))}</td>"
            f"<td>{money(price['unit_amount'] * item['quantity'], price['currency'])} / "
            f"{escape(price['recurring']['interval'])}</td><td><span class=badge>{escape(sub['status'])}</span></td>"
            f"<td>{note}</td><td>{action}</td></tr>"
        )
    invoice_rows = "".join(
        f"<tr data-testid=invoice><td>{_date(inv['created'])}</td><td>{escape(inv['number'] or inv['id'])}</td>"
        f"<td class=num>{money(inv['total'], inv['currency'])}</td><td><span class=badge>{escape(inv['status'])}</span>"
        f"</td><td><a href='{escape(inv['hosted_invoice_url'] or '')}'>View</a></td></tr>"
        for inv in invoices
        if inv["status"] != "draft"
    )
    back = f"<p><a href='{escape(session['return_url'])}'>Return</a></p>" if session["return_url"] else ""
    return page(
        "Billing",
        f"<h1>Billing for {escape(customer['email'] or customer['id'])}</h1><h2>Subscriptions</h2>"
        f"<table>{sub_rows or '<tr><td>No subscriptions</td></tr>'}</table>"
        f"<h2>Invoices</h2><table>{invoice_rows or '<tr><td>No invoices</td></tr>'}</table>{back}",
    )


def invoice_page(invoice: dict, *, error: str | None = None) -> str:
    rows = "".join(
        f"<tr><td>{escape(line['description'] or '')}</td>"
        f"<td class=num>{money(line['amount'], line['currency'])}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    pay = ""
    if invoice["status"] == "open":
        error_html = f"<div class=error role=alert>{escape(error)}</div>" if error else ""
        pay = (
            f"{error_html}<form method=post action='/i/{invoice['id']}/pay'><label for=card_number>Card number</label>"
            "<input id=card_number name=card_number required><button type=submit>Pay invoice</button></form>"
        )
    return page(
        "Invoice",
        f"<h1>Invoice {escape(invoice['number'] or invoice['id'])}</h1>"
        f"<p>Status: <span class=badge data-testid=status>{escape(invoice['status'])}</span></p>"
        f"<table>{rows}<tr><th>Total</th><th class=num>{money(invoice['total'], invoice['currency'])}</th></tr>"
        f"<tr><th>Amount due</th><th class=num>{money(invoice['amount_remaining'], invoice['currency'])}</th></tr>"
        f"</table>{pay}<p><a href='/i/{invoice['id']}/pdf'>Download PDF</a></p>",
    )


def invoice_pdf(invoice: dict) -> bytes:
    """A one-page PDF with the invoice's number, lines and total (enough for a download link to work)."""
    lines = [f"Invoice {invoice['number'] or invoice['id']}  -  {invoice['status']}"]
    lines += [
        f"{line['description'] or ''}: {money(line['amount'], line['currency'])}" for line in invoice["lines"]["data"]
    ]
    lines.append(f"Total: {money(invoice['total'], invoice['currency'])}")
    text = (
        "BT /F1 12 Tf 50 780 Td 16 TL "
        + " ".join(
            "("
            + line.encode("latin-1", "replace")
            .decode("latin-1")
            .replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
            + ") '"
            for line in lines
        )
        + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
