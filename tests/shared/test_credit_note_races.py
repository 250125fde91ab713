"""Credit notes, applications, refunds and payments at the same moment (SPEC §11), on Postgres."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import Conflict
from shared.inputs import ApplyCreditInput, CreditNoteInput, ItemInput, PaymentInput, RefundInput
from shared.models import ClientCredit, CreditMovement, CreditNote, Invoice
from shared.models.enums import CREDIT_INCREASING_KINDS
from shared.services import apply_client_credit, issue_credit_note, record_payment, refund_client_credit

pytestmark = pytest.mark.backends("postgresql")

RACERS = 20


def _race(engine, jobs: list[Callable[[Session], object]]) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(job) -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                job(own)
                outcomes.append("done")
            except Conflict:
                outcomes.append("refused")

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _items(amount: str) -> CreditNoteInput:
    return CreditNoteInput(reason="race", items=[ItemInput(description="Part", quantity="1", unit_price=amount)])


def test_twenty_concurrent_credit_notes_never_pass_the_total_and_are_numbered_consecutively(
    engine, session, actor, make_invoice
):
    invoice_id = make_invoice(issue=True).id  # total 100.00
    session.close()

    def credit(own: Session):
        return issue_credit_note(own, actor=actor, invoice_id=invoice_id, data=_items("15.00"))

    outcomes = _race(engine, [credit] * RACERS)
    assert sorted(outcomes) == ["done"] * 6 + ["refused"] * 14
    with Session(engine) as check:
        invoice = check.get(Invoice, invoice_id)
        numbers = sorted(check.scalars(select(CreditNote.number)))
        assert sum(note.total for note in invoice.credit_notes) == Decimal("90.00")
        assert invoice.amount_credited == Decimal("90.00") and invoice.balance_due == Decimal("10.00")
    year = dt.date.today().year
    assert numbers == [f"CN-{year}-{seq:05d}" for seq in range(1, 7)]


def test_applications_refunds_and_payments_at_once_never_overdraw_credit(
    engine, session, actor, make_invoice, make_client
):
    client = make_client()
    source = make_invoice(issue=True, client=client)
    record_payment(session, actor=actor, invoice_id=source.id, data=PaymentInput(amount="100.00"))
    issue_credit_note(session, actor=actor, invoice_id=source.id, data=CreditNoteInput(reason="all back", full=True))
    target = make_invoice(issue=True, client=client, lines=2)  # 200.00 owed
    client_id, target_id = client.id, target.id
    session.close()

    def apply(own: Session):
        return apply_client_credit(own, actor=actor, invoice_id=target_id, data=ApplyCreditInput(amount="15.00"))

    def refund(own: Session):
        return refund_client_credit(
            own, actor=actor, client_id=client_id, data=RefundInput(currency="USD", amount="15.00", method="cash")
        )

    def pay(own: Session):
        return record_payment(own, actor=actor, invoice_id=target_id, data=PaymentInput(amount="20.00"))

    outcomes = _race(engine, [apply] * 8 + [refund] * 8 + [pay] * 4)
    assert outcomes.count("done") >= 6 + 4  # 100.00 of credit covers six moves of 15.00; payments all fit
    with Session(engine) as check:
        credit = check.get(ClientCredit, (client_id, "USD"))
        movements = check.scalars(select(CreditMovement).where(CreditMovement.client_id == client_id)).all()
        ledger = sum((m.amount if m.kind in CREDIT_INCREASING_KINDS else -m.amount for m in movements), Decimal(0))
        assert credit.balance == ledger == Decimal("10.00")
        target = check.get(Invoice, target_id)
        assert target.amount_paid + target.amount_credited <= target.total
        assert target.balance_due == target.total - target.amount_paid - target.amount_credited
        assert check.scalar(select(func.count()).select_from(CreditNote)) == 1
