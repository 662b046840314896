"""`/v1/orders/{n}/invoices|credit-notes|landed-costs`: what an order bills, and its history.

An order taken in with a `destination_country` is billed its landed cost; until its first
change these documents are derived from the order (and equal what the first change stores).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from kalem.api.context import Caller, Ctx
from kalem.api.schemas_out import ERRORS
from kalem.api.schemas_out_money import CreditNoteList, InvoiceOut, InvoicePage, LandedCostList
from kalem.app import billing as app
from kalem.domain.billing import CreditNote, InvoiceRevision, VatPart

router = APIRouter(prefix="/v1/orders", tags=["billing"], responses=ERRORS)

SellerScope = Annotated[str | None,
                        Query(max_length=64, description="operators: the seller, if the number is ambiguous")]


def _money(value: Decimal) -> str:
    return format(value, "f")


def _time(value: datetime | str) -> str:
    text = value if isinstance(value, str) else value.isoformat()
    return text.replace("+00:00", "Z")


def _vat(parts: tuple[VatPart, ...]) -> list[dict[str, str]]:
    return [{"rate": _money(p.rate), "net": _money(p.net), "vat": _money(p.vat)} for p in parts]


def invoice_view(rev: InvoiceRevision, latest: bool) -> dict[str, Any]:
    return {"number": rev.number, "revision": rev.revision, "latest": latest, "currency": rev.currency,
            "lines": [{"description": ln.description, "amount": _money(ln.amount), "vat_rate": _money(ln.vat_rate)}
                      for ln in rev.lines],
            "vat_by_rate": _vat(rev.vat_by_rate), "total": _money(rev.total), "amount_due": _money(rev.amount_due),
            "credits_applied": [{"credit_note_number": c.credit_note_number, "amount": _money(c.amount)}
                                for c in rev.credits_applied],
            "charged": rev.charged, "reason": rev.reason, "issued_at": _time(rev.issued_at)}


def credit_note_view(note: CreditNote, currency: str) -> dict[str, Any]:
    return {"number": note.number, "invoice_number": note.invoice_number, "currency": currency,
            "amount": _money(note.amount), "remaining": _money(note.remaining), "vat_by_rate": _vat(note.vat_by_rate),
            "reason": note.reason, "issued_at": _time(note.issued_at), "applied_to_invoice": note.applied_to_invoice,
            "applications": [{"invoice_number": a.invoice_number, "amount": _money(a.amount)}
                             for a in note.applications],
            "units": [{"line_id": line_id, "first": first, "last": last} for line_id, first, last in note.units],
            "amounts_by_type": {kind: _money(amount) for kind, amount in note.by_type.items()}}


@router.get("/{order_number}/invoices", summary="Every invoice revision, in issue order",
            response_model=InvoicePage)
def invoices(order_number: str, ctx: Ctx, caller: Caller, seller_id: SellerScope = None) -> dict:
    billed = app.billing_for_number(ctx.uow(write=False), order_number, caller, seller_id)
    history = billed.billing.history
    current = {(r.number, r.revision) for r in history.current_invoices()}
    return {"data": [invoice_view(r, (r.number, r.revision) in current) for r in history.invoices],
            "billable": _money(history.billable()), "pending_credit": _money(history.pending_credit()),
            "currency": history.currency}


@router.get("/{order_number}/credit-notes", summary="Credit notes, in issue order", response_model=CreditNoteList)
def credit_notes(order_number: str, ctx: Ctx, caller: Caller, seller_id: SellerScope = None) -> dict:
    history = app.billing_for_number(ctx.uow(write=False), order_number, caller, seller_id).billing.history
    return {"data": [credit_note_view(n, history.currency) for n in history.credit_notes]}


@router.get("/{order_number}/landed-costs", summary="Every landed-cost computation, oldest first",
            response_model=LandedCostList)
def landed_costs(order_number: str, ctx: Ctx, caller: Caller, seller_id: SellerScope = None) -> dict:
    billing = app.billing_for_number(ctx.uow(write=False), order_number, caller, seller_id).billing
    return {"destination_country": billing.destination_country,
            "data": [{**r, "computed_at": _time(r["computed_at"])} for r in billing.landed_costs]}


@router.post("/{order_number}/invoices/{invoice_number}/charge",
             summary="Record that an invoice was collected (operators); later decreases become credit notes",
             response_model=InvoiceOut)
def charge(order_number: str, invoice_number: Annotated[str, Path(max_length=100)], ctx: Ctx, caller: Caller,
           seller_id: SellerScope = None) -> dict:
    with ctx.uow(write=False) as uow:
        order = uow.orders.get(order_number, caller.scope or seller_id)
    billed = app.charge_invoice(ctx.uow(), order.id, invoice_number, caller)
    return invoice_view(billed.billing.history.invoice(invoice_number), True)
