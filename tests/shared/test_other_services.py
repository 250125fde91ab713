"""Clients, expenses, users and API keys (SPEC §5.4, §5.5)."""

import hashlib
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shared.errors import Conflict, PermissionDenied, ValidationFailed
from shared.inputs import ClientChanges, ClientInput, ExpenseChanges, ExpenseInput, PaymentInput
from shared.models import Activity, ApiKey, Client, Expense, User
from shared.services import (
    Actor,
    approve_expense,
    archive_client,
    create_api_key,
    create_client,
    create_user,
    decline_expense,
    delete_client,
    delete_expense,
    request_expense,
    restore_client,
    revoke_api_key,
    update_client,
    update_expense,
)
from shared.services.users import find_api_key


def test_client_fields_are_normalised(session, actor):
    client = create_client(
        session,
        actor=actor,
        data=ClientInput(name="  Ada  ", email="Ada@Example.COM", phone="+234 803-123 4567", default_currency="usd"),
    )
    assert (client.name, client.email, client.phone, client.default_currency) == (
        "Ada",
        "ada@example.com",
        "+2348031234567",
        "USD",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "phone": "0803 123"}, "phone"),
        ({"name": "A", "client_type": "alien"}, "client_type"),
        ({"name": "A", "default_currency": "ABC"}, "default_currency"),
        ({"name": "A", "sms_opt_in": "yes"}, "sms_opt_in"),
        ({"name": "A", "sms_opt_in": True}, "sms_opt_in"),
        ({"name": "A", "shoe_size": 9}, "shoe_size"),
    ],
)
def test_bad_clients_are_refused(session, actor, data, field):
    with pytest.raises(ValidationFailed) as info:
        create_client(session, actor=actor, data=ClientInput.from_mapping(data))
    assert field in info.value.errors
    assert session.scalar(select(func.count()).select_from(Client)) == 0


def test_client_with_invoices_is_archived_not_deleted(session, actor, make_client, make_invoice):
    client = make_client()
    make_invoice(client=client)
    with pytest.raises(Conflict, match="archive"):
        delete_client(session, actor=actor, client_id=client.id)
    archive_client(session, actor=actor, client_id=client.id)
    assert client.is_archived
    restore_client(session, actor=actor, client_id=client.id)
    assert not client.is_archived


def test_client_without_invoices_can_be_deleted(session, actor, make_client):
    client = make_client()
    delete_client(session, actor=actor, client_id=client.id)
    assert session.scalar(select(func.count()).select_from(Client)) == 0


def test_client_edit_records_what_changed(session, actor, make_client):
    client = make_client()
    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(name="New", reminders_opt_out=True))
    entry = session.scalars(select(Activity).where(Activity.verb == "edited")).one()
    assert entry.summary == "Changed name, reminders_opt_out"


def _expense(session, actor, **fields):
    data = {"title": "Toner", "category": "Supplies", "amount": "28500.00", "currency": "NGN"}
    data.update(fields)
    return request_expense(session, actor=actor, data=ExpenseInput.from_mapping(data))


def test_expense_is_requested_then_approved_by_an_admin(session, actor):
    expense = _expense(session, actor)
    assert expense.status == "pending"
    update_expense(session, actor=actor, expense_id=expense.id, data=ExpenseChanges(amount="30000"))
    assert expense.amount == Decimal("30000")
    approve_expense(session, actor=actor, expense_id=expense.id, note="ok")
    assert expense.status == "approved" and expense.decided_by == actor.label
    with pytest.raises(Conflict, match="only pending"):
        update_expense(session, actor=actor, expense_id=expense.id, data=ExpenseChanges(amount="1"))
    with pytest.raises(Conflict):
        decline_expense(session, actor=actor, expense_id=expense.id, note="no")


def _user(session, actor, role: str) -> Actor:
    user = create_user(
        session, actor=actor, email=f"{role}{uuid.uuid4().hex[:6]}@example.com", name=role, role=role, password="x" * 12
    )
    return Actor.user(user)


def test_a_staff_member_cannot_approve_or_decline_an_expense(session, actor):
    staff = _user(session, actor, "staff")
    expense = _expense(session, staff)
    with pytest.raises(PermissionDenied, match="only an admin can approve or decline"):
        approve_expense(session, actor=staff, expense_id=expense.id, note="ok")
    with pytest.raises(PermissionDenied, match="only an admin can approve or decline"):
        decline_expense(session, actor=staff, expense_id=expense.id, note="no")
    session.refresh(expense)
    assert expense.status == "pending"
    approve_expense(session, actor=_user(session, actor, "admin"), expense_id=expense.id)
    assert expense.status == "approved"


def test_staff_change_only_their_own_expenses_and_an_admin_changes_any(session, actor):
    ada, bola = _user(session, actor, "staff"), _user(session, actor, "staff")
    expense = request_expense(
        session, actor=ada, data=ExpenseInput(title="Toner", category="Supplies", amount="10.00"), user_id=ada.id
    )
    with pytest.raises(PermissionDenied, match="only an admin or the person who requested it"):
        update_expense(session, actor=bola, expense_id=expense.id, data=ExpenseChanges(amount="1.00"))
    with pytest.raises(PermissionDenied, match="only an admin or the person who requested it"):
        delete_expense(session, actor=bola, expense_id=expense.id)
    session.refresh(expense)
    assert expense.amount == Decimal("10.00")
    update_expense(session, actor=ada, expense_id=expense.id, data=ExpenseChanges(amount="12.00"))
    update_expense(
        session, actor=_user(session, actor, "admin"), expense_id=expense.id, data=ExpenseChanges(amount="13.00")
    )
    assert expense.amount == Decimal("13.00")


def test_an_api_key_decides_expenses_only_with_the_admin_scope(session, actor):
    expense = _expense(session, actor)
    write_key, _ = create_api_key(session, actor=actor, name="shop", scope="write")
    with pytest.raises(PermissionDenied):
        approve_expense(session, actor=Actor.api_key(write_key), expense_id=expense.id)
    admin_key, _ = create_api_key(session, actor=actor, name="books", scope="admin")
    approve_expense(session, actor=Actor.api_key(admin_key), expense_id=expense.id)
    assert expense.status == "approved"


def test_declining_needs_a_note(session, actor):
    expense = _expense(session, actor)
    with pytest.raises(ValidationFailed, match="note"):
        decline_expense(session, actor=actor, expense_id=expense.id, note="")
    decline_expense(session, actor=actor, expense_id=expense.id, note="Personal purchase")
    assert expense.status == "declined" and expense.decision_note == "Personal purchase"


def test_pending_expense_can_be_withdrawn(session, actor):
    expense = _expense(session, actor)
    delete_expense(session, actor=actor, expense_id=expense.id)
    assert session.scalar(select(func.count()).select_from(Expense)) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"amount": "0"}, "amount"), ({"title": ""}, "title"), ({"amount": "1.5", "currency": "JPY"}, "amount")],
)
def test_bad_expenses_are_refused(session, actor, fields, field):
    with pytest.raises(ValidationFailed) as info:
        _expense(session, actor, **fields)
    assert field in info.value.errors


def test_user_password_is_hashed_with_scrypt(session, actor):
    user = create_user(
        session, actor=actor, email="Staff@Example.com", name="Staff", role="staff", password="correct horse battery"
    )
    assert user.email == "staff@example.com"
    assert user.password_hash.startswith("scrypt:") and "correct horse" not in user.password_hash
    assert user.check_password("correct horse battery") and not user.check_password("wrong")
    with pytest.raises(Conflict, match="already exists"):
        create_user(session, actor=actor, email="staff@example.com", name="Again", role="staff", password="x" * 12)
    with pytest.raises(ValidationFailed, match="password"):
        create_user(session, actor=actor, email="b@example.com", name="B", role="staff", password="short")
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_api_key_is_stored_hashed_and_revocable(session, actor):
    key, secret = create_api_key(session, actor=actor, name="Shop", scope="read")
    assert secret.startswith(f"inv_{key.prefix}_") and len(secret) > 40
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = session.execute(select(ApiKey.__table__)).one()
    assert all(secret not in str(value) for value in stored)
    assert find_api_key(session, secret) is key
    assert find_api_key(session, secret + "x") is None
    assert key.allows("read") and not key.allows("write")
    revoke_api_key(session, actor=actor, key_id=key.id)
    assert find_api_key(session, secret) is None


def test_absurdly_large_numbers_are_validation_errors_not_crashes(session, actor, make_invoice):
    """1e30 would overflow Decimal's context when rounded; it is refused first."""
    from shared.services import record_payment

    with pytest.raises(ValidationFailed) as info:
        _expense(session, actor, amount="1e30")
    assert "amount" in info.value.errors
    invoice = make_invoice(issue=True)
    with pytest.raises(ValidationFailed):
        record_payment(session, actor=actor, invoice_id=invoice.id, data=PaymentInput(amount="-1e40"))
    with pytest.raises(ValidationFailed):
        make_invoice(discount={"type": "fixed", "value": "9" * 40})


def test_unknown_expense_currency_is_named_not_a_crash(session, actor):
    with pytest.raises(ValidationFailed) as info:
        _expense(session, actor, currency="ZZZ", amount="10")
    assert "currency" in info.value.errors


def test_changing_an_expense_currency_rechecks_its_amount(session, actor):
    expense = _expense(session, actor, amount="10.55", currency="USD")
    with pytest.raises(ValidationFailed) as info:
        update_expense(session, actor=actor, expense_id=expense.id, data=ExpenseChanges(currency="JPY"))
    assert "amount" in info.value.errors
    session.expire_all()
    assert session.get(Expense, expense.id).currency == "USD"


def test_an_archived_client_is_not_found_by_email(session, actor, make_client):
    from shared.services.clients import find_client_by_email

    old = make_client(email="same@example.com")
    archive_client(session, actor=actor, client_id=old.id)
    assert find_client_by_email(session, "SAME@example.com") is None
