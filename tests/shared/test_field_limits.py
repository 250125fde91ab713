"""Field limits are defined once (shared.limits): the admin form, the API schema and the service agree.

For each limited text field a value one character over the limit is refused
by all three doors, each naming the same limit; a value at the limit passes
the form's and the schema's length checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from api_service import schemas
from main_service.admin import forms
from shared import limits
from shared.errors import ValidationFailed
from shared.inputs import ClientChanges, ClientInput, ExpenseInput, InvoiceDraft, PaymentInput, SettingsChanges
from shared.services import (
    approve_expense,
    create_api_key,
    create_client,
    create_draft,
    create_user,
    record_payment,
    request_expense,
    update_client,
    void_invoice,
)
from shared.services.settings import update_settings

LINE = {"description": "Work", "quantity": "1", "unit_price": "10.00"}
EXPENSE = {"title": "Toner", "category": "Supplies", "amount": "10.00"}


@dataclass(frozen=True)
class Field:
    """One limited field as each door names it, and how the service is asked to take a value."""

    limit: int
    form: type
    form_field: str  # "name", or "lines-0-description" for a line of the invoice editor
    form_base: dict[str, str]
    schema: type
    schema_path: str  # "name" or "items.0.description"
    schema_base: dict[str, Any]
    service: Callable[..., Any]  # (value, session, actor, make_client, make_invoice, admin_actor)


def _client(value, session, actor, make_client, make_invoice, admin_actor, field):
    return create_client(session, actor=actor, data=ClientInput.from_mapping({"name": "A", field: value}))


def _invoice(value, session, actor, make_client, make_invoice, admin_actor, field):
    client = make_client()
    data = {"client_id": client.id, "items": [dict(LINE)], field: value}
    return create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))


def _expense(value, session, actor, make_client, make_invoice, admin_actor, field):
    return request_expense(session, actor=actor, data=ExpenseInput.from_mapping({**EXPENSE, field: value}))


FIELDS = {
    "client name": Field(
        limits.CLIENT_NAME,
        forms.ClientForm,
        "name",
        {},
        schemas.ClientIn,
        "name",
        {},
        lambda v, s, a, mc, mi, aa: update_client(s, actor=a, client_id=mc().id, data=ClientChanges(name=v)),
    ),
    "client e-mail": Field(
        limits.EMAIL,
        forms.ClientForm,
        "email",
        {"name": "A"},
        schemas.ClientIn,
        "email",
        {"name": "A"},
        lambda *args: _client(*args, field="email"),
    ),
    "client phone": Field(
        limits.PHONE,
        forms.ClientForm,
        "phone",
        {"name": "A"},
        schemas.ClientIn,
        "phone",
        {"name": "A"},
        lambda *args: _client(*args, field="phone"),
    ),
    "billing address": Field(
        limits.ADDRESS,
        forms.ClientForm,
        "billing_address",
        {"name": "A"},
        schemas.ClientIn,
        "billing_address",
        {"name": "A"},
        lambda *args: _client(*args, field="billing_address"),
    ),
    "postal address": Field(
        limits.ADDRESS,
        forms.ClientForm,
        "postal_address",
        {"name": "A"},
        schemas.ClientPatch,
        "postal_address",
        {},
        lambda *args: _client(*args, field="postal_address"),
    ),
    "purchase order": Field(
        limits.PURCHASE_ORDER,
        forms.InvoiceForm,
        "purchase_order",
        {},
        schemas.InvoiceIn,
        "purchase_order",
        {"client_id": 1, "items": [LINE]},
        lambda *args: _invoice(*args, field="purchase_order"),
    ),
    "invoice notes": Field(
        limits.INVOICE_NOTES,
        forms.InvoiceForm,
        "notes",
        {},
        schemas.InvoicePatch,
        "notes",
        {},
        lambda *args: _invoice(*args, field="notes"),
    ),
    "line description": Field(
        limits.LINE_DESCRIPTION,
        forms.InvoiceForm,
        "lines-0-description",
        {},
        schemas.InvoiceIn,
        "items.0.description",
        {"client_id": 1},
        lambda v, s, a, mc, mi, aa: create_draft(
            s, actor=a, data=InvoiceDraft.from_mapping({"client_id": mc().id, "items": [{**LINE, "description": v}]})
        ),
    ),
    "void reason": Field(
        limits.VOID_REASON,
        forms.ReasonForm,
        "reason",
        {},
        schemas.ReasonIn,
        "reason",
        {},
        lambda v, s, a, mc, mi, aa: void_invoice(s, actor=a, invoice_id=mi(issue=True).id, reason=v),
    ),
    "payment reference": Field(
        limits.PAYMENT_REFERENCE,
        forms.PaymentForm,
        "reference",
        {"amount": "1"},
        schemas.PaymentIn,
        "reference",
        {"amount": "1"},
        lambda v, s, a, mc, mi, aa: record_payment(
            s, actor=a, invoice_id=mi(issue=True).id, data=PaymentInput(amount="1", reference=v)
        ),
    ),
    "payment note": Field(
        limits.PAYMENT_NOTE,
        forms.PaymentForm,
        "note",
        {"amount": "1"},
        schemas.PaymentIn,
        "note",
        {"amount": "1"},
        lambda v, s, a, mc, mi, aa: record_payment(
            s, actor=a, invoice_id=mi(issue=True).id, data=PaymentInput(amount="1", note=v)
        ),
    ),
    "payment internal note": Field(
        limits.PAYMENT_INTERNAL_NOTE,
        forms.PaymentForm,
        "internal_note",
        {"amount": "1"},
        schemas.PaymentIn,
        "internal_note",
        {"amount": "1"},
        lambda v, s, a, mc, mi, aa: record_payment(
            s, actor=a, invoice_id=mi(issue=True).id, data=PaymentInput(amount="1", internal_note=v)
        ),
    ),
    "expense title": Field(
        limits.EXPENSE_TITLE,
        forms.ExpenseForm,
        "title",
        {},
        schemas.ExpenseIn,
        "title",
        {},
        lambda *args: _expense(*args, field="title"),
    ),
    "expense category": Field(
        limits.EXPENSE_CATEGORY,
        forms.ExpenseForm,
        "category",
        {},
        schemas.ExpensePatch,
        "category",
        {},
        lambda *args: _expense(*args, field="category"),
    ),
    "expense payee": Field(
        limits.EXPENSE_PAYEE,
        forms.ExpenseForm,
        "payee",
        {},
        schemas.ExpenseIn,
        "payee",
        {**EXPENSE},
        lambda *args: _expense(*args, field="payee"),
    ),
    "expense description": Field(
        limits.EXPENSE_DESCRIPTION,
        forms.ExpenseForm,
        "description",
        {},
        schemas.ExpenseIn,
        "description",
        {**EXPENSE},
        lambda *args: _expense(*args, field="description"),
    ),
    "expense decision note": Field(
        limits.DECISION_NOTE,
        forms.DecisionForm,
        "note",
        {},
        schemas.DecisionIn,
        "note",
        {},
        lambda v, s, a, mc, mi, aa: approve_expense(
            s, actor=aa, expense_id=request_expense(s, actor=a, data=ExpenseInput.from_mapping(EXPENSE)).id, note=v
        ),
    ),
}


def _text(length: int, field: Field) -> str:
    # A phone number may only hold digits; anything else is plain letters.
    return "+" + "1" * (length - 1) if field.form_field == "phone" else "a" * length


def _form_errors(app, field: Field, value: str) -> list[str]:
    with app.test_request_context(method="POST", data={**field.form_base, field.form_field: value}):
        form = field.form(meta={"csrf": False})
        if hasattr(form, "client_id"):
            form.client_id.choices = [("1", "A client")]
        form.validate()
        if field.form_field.startswith("lines-"):
            return form.lines.entries[0].form.description.errors
        return getattr(form, field.form_field).errors


def _schema_errors(field: Field, value: str) -> list[str]:
    body: dict[str, Any] = dict(field.schema_base)
    if field.schema_path == "items.0.description":
        body["items"] = [{**LINE, "description": value}]
    else:
        body[field.schema_path] = value
    try:
        field.schema.model_validate(body)
    except ValidationError as exc:
        return [e["msg"] for e in exc.errors() if ".".join(map(str, e["loc"])) == field.schema_path]
    return []


@pytest.mark.parametrize("name", FIELDS)
def test_one_character_over_the_limit_is_refused_by_form_schema_and_service(
    name, admin_app, session, actor, make_client, make_invoice
):
    field = FIELDS[name]
    too_long = _text(field.limit + 1, field)
    limit = str(field.limit)

    form_errors = _form_errors(admin_app, field, too_long)
    assert any(limit in message for message in form_errors), form_errors

    schema_errors = _schema_errors(field, too_long)
    assert any(limit in message for message in schema_errors), schema_errors

    admin_actor = actor
    with pytest.raises(ValidationFailed) as refused:
        field.service(too_long, session, actor, make_client, make_invoice, admin_actor)
    assert refused.value.errors == {field.schema_path: [f"must be at most {limit} characters"]}


@pytest.mark.parametrize("name", FIELDS)
def test_a_value_at_the_limit_passes_the_form_and_schema_length_checks(name, admin_app):
    field = FIELDS[name]
    at_limit = _text(field.limit, field)
    assert _form_errors(admin_app, field, at_limit) == []
    assert _schema_errors(field, at_limit) == []


SETTINGS_TEXTS = {
    "company_name": limits.COMPANY_NAME,
    "company_address": limits.COMPANY_ADDRESS,
    "company_phone": limits.COMPANY_PHONE,
    "company_tax_id": limits.COMPANY_TAX_ID,
    "company_website": limits.COMPANY_WEBSITE,
    "payment_instructions": limits.PAYMENT_INSTRUCTIONS,
}


@pytest.mark.parametrize("name", SETTINGS_TEXTS)
def test_a_setting_one_character_over_its_limit_is_refused_by_the_form_and_the_service(name, admin_app, session, actor):
    limit = SETTINGS_TEXTS[name]
    too_long = "a" * (limit + 1)
    with admin_app.test_request_context(method="POST", data={name: too_long}):
        form = forms.SettingsForm(meta={"csrf": False})
        form.validate()
        assert any(str(limit) in message for message in getattr(form, name).errors)
    with pytest.raises(ValidationFailed) as refused:
        update_settings(session, actor=actor, data=SettingsChanges(**{name: too_long}))
    assert refused.value.errors == {name: [f"must be at most {limit} characters"]}
    with admin_app.test_request_context(method="POST", data={name: "a" * limit}):
        form = forms.SettingsForm(meta={"csrf": False})
        form.validate()
        assert getattr(form, name).errors == []


def test_number_formats_user_names_passwords_and_key_names_share_their_limits_with_the_forms(admin_app, session, actor):
    def form_errors(form_class, field, value):
        with admin_app.test_request_context(method="POST", data={field: value}):
            form = form_class(meta={"csrf": False})
            form.validate()
            return getattr(form, field).errors

    for form_class, field, limit in (
        (forms.SettingsForm, "invoice_number_format", limits.NUMBER_FORMAT),
        (forms.UserForm, "name", limits.USER_NAME),
        (forms.UserForm, "password", limits.MAX_PASSWORD),
        (forms.LoginForm, "password", limits.MAX_PASSWORD),
        (forms.PasswordChangeForm, "new_password", limits.MAX_PASSWORD),
        (forms.ApiKeyForm, "name", limits.API_KEY_NAME),
    ):
        assert any(str(limit) in m for m in form_errors(form_class, field, "a" * (limit + 1))), (form_class, field)
        assert form_errors(form_class, field, "a" * limit) == [], (form_class, field)

    with pytest.raises(ValidationFailed) as refused:
        create_user(
            session,
            actor=actor,
            email="u@example.com",
            name="a" * (limits.USER_NAME + 1),
            role="staff",
            password="p" * 12,
        )
    assert refused.value.errors == {"name": [f"must be at most {limits.USER_NAME} characters"]}
    with pytest.raises(ValidationFailed, match=f"must be at most {limits.MAX_PASSWORD} characters"):
        create_user(
            session,
            actor=actor,
            email="u@example.com",
            name="U",
            role="staff",
            password="p" * (limits.MAX_PASSWORD + 1),
        )
    with pytest.raises(ValidationFailed, match=f"must be at least {limits.MIN_PASSWORD} characters"):
        create_user(
            session,
            actor=actor,
            email="u@example.com",
            name="U",
            role="staff",
            password="p" * (limits.MIN_PASSWORD - 1),
        )
    with pytest.raises(ValidationFailed) as refused:
        create_api_key(session, actor=actor, name="a" * (limits.API_KEY_NAME + 1))
    assert refused.value.errors == {"name": [f"must be at most {limits.API_KEY_NAME} characters"]}
    with pytest.raises(ValidationFailed) as refused:
        update_settings(
            session, actor=actor, data=SettingsChanges(invoice_number_format="{seq}" + "a" * limits.NUMBER_FORMAT)
        )
    assert list(refused.value.errors) == ["invoice_number_format"]
    assert str(limits.NUMBER_FORMAT) in refused.value.errors["invoice_number_format"][0]
