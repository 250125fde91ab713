"""Payments and receipts (SPEC §5.3)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import Conflict, ValidationFailed
from shared.inputs import PaymentInput
from shared.models import Activity, Invoice, Payment, QueuedMessage
from shared.services import Notify, record_payment, void_invoice, void_payment


def test_partial_then_full_payment_moves_the_invoice_on(session, actor, make_invoice):
    invoice = make_invoice(issue=True, lines=2)  # 200.00
    first, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="50.00", method="cash")
    )
    assert invoice.status == "partially_paid" and invoice.balance_due == Decimal("150.00")
    second, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount=Decimal("150"), method="card")
    )
    assert invoice.status == "paid" and invoice.balance_due == Decimal("0.00")
    assert first.receipt_number != second.receipt_number
    assert first.recorded_by == actor.label


def test_overpayment_is_refused_with_a_clear_message(session, actor, make_invoice):
    invoice = make_invoice(issue=True, lines=1, items=[{"description": "x", "quantity": "1", "unit_price": "320.00"}])
    with pytest.raises(
        Conflict, match=r"payment of USD 500\.00 is more than the balance due of USD 320\.00"
    ) as refused:
        record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="500.00"))
    assert refused.value.field == "amount"
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "1", "method": "barter"}, "method"),
        ({"amount": "1", "paid_on": "tomorrow"}, "paid_on"),
        # Two days ahead: still in the future if the run crosses midnight after collecting this.
        ({"amount": "1", "paid_on": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "paid_on"),
        ({"amount": "1", "reference": "r" * 201}, "reference"),
    ],
)
def test_bad_payments_are_refused_naming_the_field(session, actor, make_invoice, fields, field):
    invoice = make_invoice(issue=True)
    with pytest.raises(ValidationFailed) as info:
        record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(**fields))
    assert field in info.value.errors
    session.expire_all()
    assert session.get(Invoice, invoice.id).amount_paid == 0


def test_drafts_void_and_paid_invoices_take_no_payment(session, actor, make_invoice):
    with pytest.raises(Conflict, match="draft"):
        record_payment(session, actor=actor, invoice_id=make_invoice().id, data=PaymentInput(amount="1.00"))
    voided = make_invoice(issue=True)
    void_invoice(session, actor=actor, invoice_id=voided.id)
    with pytest.raises(Conflict, match="void"):
        record_payment(session, actor=actor, invoice_id=voided.id, data=PaymentInput(amount="1.00"))
    paid = make_invoice(issue=True)
    record_payment(session, actor=actor, invoice_id=paid.id, data=PaymentInput(amount="100.00"))
    with pytest.raises(Conflict, match="already paid"):
        record_payment(session, actor=actor, invoice_id=paid.id, data=PaymentInput(amount="1.00"))


def test_payment_can_queue_its_receipt(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    payment, messages = record_payment(
        session,
        actor=actor,
        invoice_id=invoice.id,
        data=PaymentInput(amount="10.00"),
        notify=Notify(email=True, sms=True),
    )
    assert {(m.kind, m.channel, m.payment_id) for m in messages} == {
        ("receipt", "email", payment.id),
        ("receipt", "sms", payment.id),
    }


def test_full_payment_cancels_queued_reminders(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    session.add(QueuedMessage(kind="reminder", channel="email", recipient="a@example.com", invoice_id=invoice.id))
    session.commit()
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))
    assert session.scalars(select(QueuedMessage.state)).all() == ["cancelled"]


def test_voiding_a_payment_restores_the_balance(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    payment, _ = record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="100.00"))
    assert invoice.status == "paid"
    void_payment(session, actor=actor, payment_id=payment.id, reason="Cheque bounced")
    assert invoice.status == "open" and invoice.balance_due == Decimal("100.00")
    assert payment.is_void and payment.void_reason == "Cheque bounced"
    with pytest.raises(Conflict, match="already void"):
        void_payment(session, actor=actor, payment_id=payment.id)
    verbs = session.scalars(select(Activity.verb).where(Activity.invoice_id == invoice.id).order_by(Activity.id)).all()
    assert verbs[-2:] == ["payment_recorded", "payment_voided"]
    # The payment row stays: voided, never deleted.
    assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_two_payments_racing_for_the_last_balance(backend, engine, session, actor, make_invoice):
    """One wins, the other is refused; the balance never goes negative."""
    invoice_id = make_invoice(issue=True).id
    session.close()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pay() -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                record_payment(own, actor=actor, invoice_id=invoice_id, data=PaymentInput(amount="100.00"))
                outcomes.append("paid")
            except Conflict:
                outcomes.append("refused")

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["paid", "refused"]
    with Session(engine) as check:
        invoice = check.get(Invoice, invoice_id)
        assert invoice.amount_paid == Decimal("100") and invoice.balance_due == 0


def test_voiding_one_payment_keeps_the_other_receipts_queued(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    first, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="10.00"), notify=Notify(email=True)
    )
    second, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="20.00"), notify=Notify(email=True)
    )
    void_payment(session, actor=actor, payment_id=first.id)
    states = dict(session.execute(select(QueuedMessage.payment_id, QueuedMessage.state)).all())
    assert states == {first.id: "cancelled", second.id: "queued"}


def test_a_payment_cannot_predate_its_invoice(session, actor, make_invoice):
    issued_on = dt.date.today() - dt.timedelta(days=10)
    invoice = make_invoice(issue=True, issue_date=issued_on.isoformat(), due_date=issued_on.isoformat())
    with pytest.raises(ValidationFailed) as info:
        record_payment(
            session,
            actor=actor,
            invoice_id=invoice.id,
            data=PaymentInput(amount="1.00", paid_on=issued_on - dt.timedelta(days=1)),
        )
    assert "paid_on" in info.value.errors


def test_receipts_are_numbered_in_the_year_they_are_issued(session, actor, make_invoice):
    last_year = dt.date.today().replace(month=1, day=1) - dt.timedelta(days=3)
    invoice = make_invoice(issue=True, issue_date=last_year.isoformat(), due_date=last_year.isoformat())
    payment, _ = record_payment(
        session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="1.00", paid_on=last_year)
    )
    assert payment.receipt_number == f"RCT-{dt.date.today().year}-00001"
    assert payment.paid_on == last_year
