"""Credit-note use cases below the API (SPEC §11): reminders, online overpayments, activity, the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from shared.errors import Conflict, ValidationFailed
from shared.inputs import CreditNoteInput, RefundInput
from shared.models import Activity, CreditMovement, QueuedMessage
from shared.services import credit_online_overpayment, issue_credit_note, refund_client_credit, void_invoice
from shared.services.credit_notes import client_credit_in

pytestmark = pytest.mark.backends("sqlite")


def test_a_credit_note_settling_the_balance_cancels_queued_reminders(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    session.add(QueuedMessage(kind="reminder", channel="email", recipient="a@example.com", invoice_id=invoice.id))
    session.commit()
    issue_credit_note(session, actor=actor, invoice_id=invoice.id, data=CreditNoteInput(reason="x", full=True))
    assert invoice.status == "credited" and not invoice.is_live
    assert session.scalars(select(QueuedMessage.state)).all() == ["cancelled"]
    with pytest.raises(Conflict, match="credit note"):
        void_invoice(session, actor=actor, invoice_id=invoice.id)


def test_online_overpayment_adds_client_credit_with_its_activity(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    client_id = invoice.client_id
    movement = credit_online_overpayment(
        session, actor=actor, client_id=client_id, currency="usd", amount=Decimal("12.50"), invoice_id=invoice.id
    )
    assert (movement.kind, movement.amount, movement.currency) == ("overpayment", Decimal("12.50"), "USD")
    assert client_credit_in(session, client_id, "USD") == Decimal("12.50")
    with pytest.raises(ValidationFailed):
        credit_online_overpayment(session, actor=actor, client_id=client_id, currency="USD", amount=Decimal("0.001"))
    refund_client_credit(session, actor=actor, client_id=client_id, data=RefundInput(currency="USD", amount="12.50"))
    assert client_credit_in(session, client_id, "USD") == Decimal("0.00")
    verbs = session.scalars(select(Activity.verb).where(Activity.client_id == client_id).order_by(Activity.id)).all()
    assert verbs[-2:] == ["credit_added", "credit_refunded"]
    kinds = session.scalars(select(CreditMovement.kind).order_by(CreditMovement.id)).all()
    assert kinds == ["overpayment", "refund"]
