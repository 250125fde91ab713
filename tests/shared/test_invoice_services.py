"""Invoice life cycle (SPEC §5.1, §5.2): drafts, issuing, sending, voiding."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.inputs import ClientChanges, InvoiceChanges, InvoiceDraft, PaymentInput
from shared.models import Activity, Invoice, InvoiceLine, QueuedMessage
from shared.services import (
    Notify,
    archive_client,
    create_draft,
    delete_draft,
    issue_invoice,
    record_payment,
    send_invoice,
    update_draft,
    void_invoice,
)

NGN_EXAMPLE = {
    "currency": "NGN",
    "discount": {"type": "percent", "value": "10"},
    "items": [{"description": "Consulting", "quantity": "2", "unit_price": "15000.00", "tax_rate": "7.5"}],
}


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_draft_totals_follow_spec_example(session, actor, make_client):
    client = make_client()
    invoice = create_draft(
        session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": client.id, **NGN_EXAMPLE})
    )
    session.expire_all()
    invoice = session.get(Invoice, invoice.id)
    assert (invoice.amount("subtotal"), invoice.amount("discount_total")) == (Decimal("30000.00"), Decimal("3000.00"))
    assert invoice.amount("tax_total") == Decimal("2025.00")
    assert invoice.amount("total") == Decimal("29025.00")
    assert invoice.balance_due == Decimal("29025.00")
    line = invoice.lines[0]
    assert (line.amount, line.discount, line.tax) == (Decimal("30000"), Decimal("3000"), Decimal("2025"))
    assert invoice.status == "draft" and invoice.number is None


def test_jpy_invoice_rounds_to_whole_yen(session, actor, make_client):
    client = make_client()
    data = {
        "client_id": client.id,
        "currency": "JPY",
        "items": [{"description": "Tea", "quantity": "1.5", "unit_price": "333", "tax_rate": "10"}],
    }
    invoice = create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))
    assert str(invoice.amount("total")) == "550"


def test_defaults_come_from_client_then_company(session, actor, make_client):
    ghs_client = make_client(default_currency="GHS")
    plain = make_client()
    items = [{"description": "x", "quantity": "1", "unit_price": "1"}]
    assert (
        create_draft(
            session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": ghs_client.id, "items": items})
        ).currency
        == "GHS"
    )
    draft = create_draft(session, actor=actor, data=InvoiceDraft.from_mapping({"client_id": plain.id, "items": items}))
    assert draft.currency == "NGN"
    assert draft.issue_date == dt.date.today()
    assert draft.due_date == dt.date.today() + dt.timedelta(days=14)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"description": "", "quantity": "1", "unit_price": "1"}]}, "items.0.description"),
        ({"items": [{"description": "x", "quantity": "0", "unit_price": "1"}]}, "items.0.quantity"),
        ({"items": [{"description": "x", "quantity": "1.00001", "unit_price": "1"}]}, "items.0.quantity"),
        ({"items": [{"description": "x", "quantity": "1000001", "unit_price": "1"}]}, "items.0.quantity"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "-1"}]}, "items.0.unit_price"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": 1.5}]}, "items.0.unit_price"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1", "tax_rate": "101"}]}, "items.0.tax_rate"),
        ({"items": [{"description": "x" * 501, "quantity": "1", "unit_price": "1"}]}, "items.0.description"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1", "colour": "red"}]}, "items.0.colour"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1"}] * 501}, "items"),
        ({"discount": {"type": "percent", "value": "100.5"}}, "discount.value"),
        ({"discount": {"type": "fixed", "value": "0.001"}}, "discount.value"),
        ({"discount": {"type": "fixed", "value": "100.01"}}, "discount.value"),
        ({"discount": {"type": "bogus", "value": "1"}}, "discount.type"),
        ({"currency": "XYZ"}, "currency"),
        ({"due_date": "2000-01-01"}, "due_date"),
        ({"issue_date": "25/11/2026"}, "issue_date"),
        ({"client_id": 999999}, "client_id"),
        ({"flavour": "vanilla"}, "flavour"),
        (
            {"items": [{"description": "x", "quantity": "1000000", "unit_price": "1000000000"}]},
            "items.0.quantity",
        ),
    ],
)
def test_bad_drafts_are_refused_naming_the_field(session, actor, make_client, change, field):
    client = make_client()
    data = {
        "client_id": client.id,
        "currency": "USD",
        "items": [{"description": "Work", "quantity": "1", "unit_price": "100.00"}],
    }
    data.update(change)
    before = count(session, Invoice)
    with pytest.raises(ValidationFailed) as info:
        create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))
    assert field in info.value.errors, info.value.errors
    assert count(session, Invoice) == before


def test_five_hundred_lines_are_accepted(make_invoice):
    invoice = make_invoice(lines=500)
    assert len(invoice.lines) == 500
    assert invoice.amount("total") == Decimal("50000.00")


def test_fixed_discount_equal_to_subtotal_gives_zero_total(make_invoice):
    invoice = make_invoice(lines=2, discount={"type": "fixed", "value": "200.00"})
    assert invoice.amount("total") == Decimal("0.00")


def test_editing_a_draft_recomputes_and_replaces_lines(session, actor, make_invoice):
    draft = make_invoice(lines=3)
    items = [{"description": "Only line", "quantity": "3", "unit_price": "10.00", "tax_rate": "5"}]
    update_draft(
        session,
        actor=actor,
        invoice_id=draft.id,
        data=InvoiceChanges.from_mapping({"items": items, "purchase_order": "PO-1"}),
    )
    session.expire_all()
    draft = session.get(Invoice, draft.id)
    assert [line.description for line in draft.lines] == ["Only line"]
    assert draft.amount("total") == Decimal("31.50")
    assert draft.purchase_order == "PO-1"
    assert count(session, InvoiceLine) == 1


def test_a_partial_edit_keeps_other_fields(session, actor, make_invoice):
    draft = make_invoice(lines=2, discount={"type": "percent", "value": "50"})
    update_draft(session, actor=actor, invoice_id=draft.id, data=InvoiceChanges.from_mapping({"notes": "Thanks"}))
    assert draft.amount("total") == Decimal("100.00")
    assert draft.notes == "Thanks" and len(draft.lines) == 2


def test_deleting_a_draft_removes_it_and_its_lines(session, actor, make_invoice):
    draft = make_invoice(lines=2)
    delete_draft(session, actor=actor, invoice_id=draft.id)
    assert count(session, Invoice) == 0 and count(session, InvoiceLine) == 0


def test_issuing_freezes_the_invoice(session, actor, make_invoice, make_client):
    client = make_client(name="Original Name")
    invoice = make_invoice(issue=True, client=client)
    assert invoice.status == "open"
    assert invoice.issued_by == actor.label and invoice.issued_at is not None
    from shared.services import update_client

    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(name="Renamed Ltd"))
    assert invoice.billed_to["name"] == "Original Name"
    with pytest.raises(Conflict, match="void it instead"):
        update_draft(session, actor=actor, invoice_id=invoice.id, data=InvoiceChanges.from_mapping({"notes": "x"}))
    with pytest.raises(Conflict):
        delete_draft(session, actor=actor, invoice_id=invoice.id)
    with pytest.raises(Conflict):
        issue_invoice(session, actor=actor, invoice_id=invoice.id)


def test_issue_with_notify_writes_queue_rows_in_the_same_transaction(session, actor, make_invoice):
    draft = make_invoice()
    invoice, messages = issue_invoice(session, actor=actor, invoice_id=draft.id, notify=Notify(email=True, sms=True))
    assert {(m.channel, m.state, m.kind) for m in messages} == {
        ("email", "queued", "invoice"),
        ("sms", "queued", "invoice"),
    }
    assert count(session, QueuedMessage, QueuedMessage.invoice_id == invoice.id) == 2
    verbs = session.scalars(select(Activity.verb).where(Activity.invoice_id == invoice.id).order_by(Activity.id))
    assert list(verbs) == ["created", "issued"]


def test_notify_by_sms_without_a_phone_changes_nothing(session, actor, make_invoice, make_client):
    draft = make_invoice(client=make_client(phone=""))
    with pytest.raises(ValidationFailed) as info:
        issue_invoice(session, actor=actor, invoice_id=draft.id, notify=Notify(email=True, sms=True))
    assert "notify.sms" in info.value.errors
    session.expire_all()
    assert session.get(Invoice, draft.id).status == "draft"
    assert count(session, QueuedMessage) == 0


def test_an_archived_client_cannot_be_invoiced(session, actor, make_client, make_invoice):
    client = make_client()
    draft = make_invoice(client=client)
    archive_client(session, actor=actor, client_id=client.id)
    with pytest.raises(Conflict, match="archived"):
        issue_invoice(session, actor=actor, invoice_id=draft.id)
    with pytest.raises(ValidationFailed):
        make_invoice(client=client)


def test_send_and_resend_queue_new_rows(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    send_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify(email=True))
    send_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify(email=True))
    assert count(session, QueuedMessage) == 2
    with pytest.raises(ValidationFailed):
        send_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify())


def test_a_draft_cannot_be_sent(session, actor, make_invoice):
    with pytest.raises(Conflict, match="issue it"):
        send_invoice(session, actor=actor, invoice_id=make_invoice().id, notify=Notify(email=True))


def test_voiding_cancels_queued_messages_and_keeps_the_number(session, actor, make_invoice):
    invoice = make_invoice(issue=True, notify=Notify(email=True))
    void_invoice(session, actor=actor, invoice_id=invoice.id, reason="Wrong client")
    assert invoice.status == "void" and invoice.number is not None
    states = session.scalars(select(QueuedMessage.state)).all()
    assert states == ["cancelled"]
    with pytest.raises(Conflict, match="already void"):
        void_invoice(session, actor=actor, invoice_id=invoice.id)
    with pytest.raises(Conflict, match="void"):
        send_invoice(session, actor=actor, invoice_id=invoice.id, notify=Notify(email=True))


def test_an_invoice_with_payments_cannot_be_voided(session, actor, make_invoice):
    invoice = make_invoice(issue=True)
    record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="10.00"))
    with pytest.raises(Conflict, match="void its payments"):
        void_invoice(session, actor=actor, invoice_id=invoice.id)


def test_a_draft_is_deleted_not_voided(session, actor, make_invoice):
    with pytest.raises(Conflict, match="delete the draft"):
        void_invoice(session, actor=actor, invoice_id=make_invoice().id)


def test_unknown_invoice_is_not_found(session, actor):
    with pytest.raises(NotFound, match="invoice 42 does not exist"):
        void_invoice(session, actor=actor, invoice_id=42)


def test_overdue_is_derived(make_invoice):
    past = dt.date.today() - dt.timedelta(days=40)
    invoice = make_invoice(issue=True, issue_date=past.isoformat(), due_date=(past + dt.timedelta(days=10)).isoformat())
    assert invoice.is_overdue(dt.date.today())
    assert not invoice.is_overdue(past)


def test_public_tokens_are_long_and_unique(make_invoice):
    tokens = {make_invoice().public_token for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(token) >= 43 for token in tokens)  # 256 bits in URL-safe base64


def test_editing_the_issue_date_keeps_the_chosen_due_date(session, actor, make_invoice):
    today = dt.date.today()
    draft = make_invoice(issue_date=today.isoformat(), due_date=(today + dt.timedelta(days=40)).isoformat())
    update_draft(
        session,
        actor=actor,
        invoice_id=draft.id,
        data=InvoiceChanges.from_mapping({"issue_date": (today - dt.timedelta(days=2)).isoformat()}),
    )
    assert draft.due_date == today + dt.timedelta(days=40)
    with pytest.raises(ValidationFailed) as info:
        update_draft(
            session,
            actor=actor,
            invoice_id=draft.id,
            data=InvoiceChanges.from_mapping({"issue_date": (today + dt.timedelta(days=60)).isoformat()}),
        )
    assert "due_date" in info.value.errors
