"""Gapless numbers per series and year (SPEC §5.2)."""

import datetime as dt
import multiprocessing
import os

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.errors import ValidationFailed
from shared.inputs import InvoiceDraft, PaymentInput
from shared.models import Invoice
from shared.numbering import check_number_format, next_number
from shared.services import Actor, create_draft, issue_invoice


def test_drafts_have_no_number(make_invoice):
    assert make_invoice().number is None


def test_issuing_numbers_invoices_consecutively(make_invoice):
    numbers = [make_invoice(issue=True).number for _ in range(3)]
    year = dt.date.today().year
    assert numbers == [f"INV-{year}-00001", f"INV-{year}-00002", f"INV-{year}-00003"]


def test_each_year_has_its_own_sequence(make_invoice):
    last_year = dt.date.today().replace(month=1, day=1) - dt.timedelta(days=1)
    first = make_invoice(issue=True)
    old = make_invoice(issue=True, issue_date=last_year.isoformat(), due_date=last_year.isoformat())
    second = make_invoice(issue=True)
    assert old.number == f"INV-{last_year.year}-00001"
    assert first.number.endswith("-00001") and second.number.endswith("-00002")


def test_receipts_have_their_own_series(session, make_invoice, actor):
    from shared.services import record_payment

    invoice = make_invoice(issue=True)
    payment, _ = record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="10.00"))
    assert payment.receipt_number == f"RCT-{dt.date.today().year}-00001"
    assert invoice.number.endswith("-00001")


def test_a_rolled_back_issue_leaves_no_gap(session, make_invoice):
    year = dt.date.today().year
    fmt = "INV-{year}-{seq:05d}"
    assert next_number(session, "invoice", year, fmt) == f"INV-{year}-00001"
    session.rollback()
    assert next_number(session, "invoice", year, fmt) == f"INV-{year}-00001"
    session.commit()
    assert next_number(session, "invoice", year, fmt) == f"INV-{year}-00002"
    session.commit()


def test_a_refused_issue_does_not_use_a_number(session, make_invoice, make_client, actor):
    from shared.errors import ValidationFailed as VF
    from shared.services import Notify

    no_email = make_client(email="")
    draft = make_invoice(client=no_email)
    with pytest.raises(VF):
        issue_invoice(session, actor=actor, invoice_id=draft.id, notify=Notify(email=True))
    session.expire_all()
    assert session.get(Invoice, draft.id).number is None
    assert make_invoice(issue=True).number.endswith("-00001")


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("INV-{year}", "{seq}"),
        ("INV-{seq}", "{year}"),
        ("INV-{year}-{seq:05d}-{client}", "{client}"),
        ("INV-{year-{seq}", "valid format"),
        ("{year}{seq:050d}", "40 characters"),
    ],
)
def test_bad_number_formats_are_refused(fmt, message):
    with pytest.raises(ValidationFailed, match=message.replace("{", r"\{").replace("}", r"\}")):
        check_number_format(fmt)


def test_custom_format_is_used(session, make_invoice):
    from shared.services import get_settings

    get_settings(session).invoice_number_format = "{year}/{seq:04d}"
    session.commit()
    assert make_invoice(issue=True).number == f"{dt.date.today().year}/0001"


def _issue_many(url: str, client_id: int, count: int, queue) -> None:
    from shared.db import configure_engine

    engine = configure_engine(sa.create_engine(url))
    numbers = []
    actor = Actor.system(f"process {os.getpid()}")
    with Session(engine) as session:
        for _ in range(count):
            draft = create_draft(
                session,
                actor=actor,
                data=InvoiceDraft.from_mapping(
                    {
                        "client_id": client_id,
                        "currency": "USD",
                        "items": [{"description": "Work", "quantity": "1", "unit_price": "5.00"}],
                    }
                ),
            )
            invoice, _ = issue_invoice(session, actor=actor, invoice_id=draft.id)
            numbers.append(invoice.number)
    engine.dispose()
    queue.put(numbers)


@pytest.mark.slow
def test_two_processes_issuing_at_once_get_consecutive_unique_numbers(backend, database_url, session, make_client):
    client_id = make_client().id
    session.close()  # hold no lock while the processes work
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_issue_many, args=(database_url, client_id, 50, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    numbers = sorted(results[0] + results[1])
    year = dt.date.today().year
    assert numbers == [f"INV-{year}-{n:05d}" for n in range(1, 101)]
    # Both processes really did interleave their work.
    assert len(results[0]) == len(results[1]) == 50


# ---------------------------------------------------------------- the number taken at commit (SPEC §17)


def test_inside_the_issuing_transaction_the_number_is_provisional_and_the_commit_takes_the_real_one(
    session, make_invoice, actor
):
    from shared.numbering import is_provisional
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    draft = make_invoice()
    with atomic(session):
        invoice, _ = issue(session, actor=actor, invoice_id=draft.id)
        assert is_provisional(invoice.number)
        # Nothing outside the transaction can take or see it: the counter has not moved yet.
        assert session.execute(sa.text("SELECT count(*) FROM number_counters")).scalar() == 0
    assert invoice.number == f"INV-{dt.date.today().year}-00001"
    session.expire_all()
    assert session.get(Invoice, draft.id).number == f"INV-{dt.date.today().year}-00001"
    summaries = session.execute(sa.text("SELECT summary FROM activity WHERE verb = 'issued'")).scalars().all()
    assert summaries == [f"Issued as INV-{dt.date.today().year}-00001 for $100.00"]


def test_a_rolled_back_issue_takes_no_number_at_commit(session, make_invoice, actor):
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    draft = make_invoice()
    with pytest.raises(RuntimeError), atomic(session):
        issue(session, actor=actor, invoice_id=draft.id)
        raise RuntimeError("the use case fails after issuing")
    assert session.get(Invoice, draft.id).number is None
    assert make_invoice(issue=True).number.endswith("-00001")


def test_in_a_savepoint_the_number_is_taken_at_once(session, make_invoice, actor):
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    kept, dropped = make_invoice(), make_invoice()
    with atomic(session):
        with session.begin_nested():
            invoice, _ = issue(session, actor=actor, invoice_id=kept.id)
            assert invoice.number.endswith("-00001")  # real at once: a savepoint may roll back alone
        savepoint = session.begin_nested()
        issue(session, actor=actor, invoice_id=dropped.id)
        savepoint.rollback()
    session.expire_all()
    assert session.get(Invoice, kept.id).number.endswith("-00001")
    assert session.get(Invoice, dropped.id).number is None
    assert make_invoice(issue=True).number.endswith("-00002")  # the savepoint's number went back: no gap


def test_settling_early_gives_the_real_number_before_the_commit(session, make_invoice, actor):
    from shared.numbering import settle_numbers
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    first, second = make_invoice(), make_invoice()
    with atomic(session):
        one, _ = issue(session, actor=actor, invoice_id=first.id)
        two, _ = issue(session, actor=actor, invoice_id=second.id)
        settle_numbers(session)  # what a webhook snapshot does before it leaves the transaction
        assert (one.number, two.number) == (
            f"INV-{dt.date.today().year}-00001",
            f"INV-{dt.date.today().year}-00002",
        )
    session.expire_all()
    assert session.get(Invoice, second.id).number.endswith("-00002")


def test_a_number_settled_early_in_a_savepoint_that_rolls_back_is_settled_again_at_commit(session, make_invoice, actor):
    from shared.numbering import is_provisional, settle_numbers
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    draft = make_invoice()
    with atomic(session):
        invoice, _ = issue(session, actor=actor, invoice_id=draft.id)
        savepoint = session.begin_nested()
        settle_numbers(session)
        session.flush()
        assert invoice.number.endswith("-00001")
        savepoint.rollback()  # the counter's step and the number go back
        assert is_provisional(invoice.number)
    session.expire_all()
    assert session.get(Invoice, draft.id).number == f"INV-{dt.date.today().year}-00001"
    assert make_invoice(issue=True).number.endswith("-00002")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "fmt", ["INV-{year}-{seq:05d}", "{seq}{year}", "{year}/{seq:03d}", "A{{B}}-{seq:02d}-{year} %s", "{year}{seq:01d}"]
)
def test_numbers_worked_out_in_sql_read_as_python_formats_them(session, fmt, backend):
    """The commit's last statement formats numbers in SQL (shared.numbering._number_expressions): as str.format does."""
    from shared.numbering import _counter_upsert, _number_expressions

    check_number_format(fmt)
    session.execute(sa.text("INSERT INTO number_counters (series, year, last_value) VALUES ('quote', 2031, 99993)"))
    session.execute(_counter_upsert("x_"), {"x_series": "quote", "x_year": 2031, "x_count": 4})
    session.execute(_counter_upsert("x_"), {"x_series": "quote", "x_year": 2031, "x_count": 4})  # the one read
    numbers = session.execute(
        sa.select(*_number_expressions("x_", fmt, 4)),
        {"x_series": "quote", "x_year": 2031, "x_count": 4, "x_year_text": "2031"},
    ).one()
    session.rollback()
    assert list(numbers) == [fmt.format(year=2031, seq=seq) for seq in (99998, 99999, 100000, 100001)]


def test_several_numbers_in_one_commit_are_consecutive_and_every_text_names_the_real_one(session, make_invoice, actor):
    from shared.numbering import is_provisional, settled_text
    from shared.services.invoices import issue_invoice as issue
    from shared.transactions import atomic

    drafts = [make_invoice() for _ in range(3)]
    with atomic(session):
        issued = [issue(session, actor=actor, invoice_id=draft.id)[0] for draft in drafts]
        shown = f"made {issued[0].number} and {issued[2].number}"
        assert all(is_provisional(invoice.number) for invoice in issued)
    year = dt.date.today().year
    expected = [f"INV-{year}-{seq:05d}" for seq in (1, 2, 3)]
    assert [invoice.number for invoice in issued] == expected
    assert settled_text(session, shown) == f"made {expected[0]} and {expected[2]}"
    session.expire_all()
    assert [session.get(Invoice, draft.id).number for draft in drafts] == expected
    summaries = session.execute(sa.text("SELECT summary FROM activity WHERE verb = 'issued' ORDER BY id")).scalars()
    assert [summary.split(" for ")[0] for summary in summaries] == [f"Issued as {number}" for number in expected]
