"""Typed inputs of the write use cases (shared.inputs): create and partial update are different shapes."""

from __future__ import annotations

import pytest

from shared.errors import ValidationFailed
from shared.inputs import (
    UNSET,
    ClientChanges,
    ClientInput,
    DiscountInput,
    ExpenseChanges,
    ExpenseInput,
    InvoiceChanges,
    InvoiceDraft,
    ItemInput,
    PaymentInput,
    SettingsChanges,
    given,
)
from shared.services import update_client, update_draft


def test_changes_leave_fields_not_given_as_they_are_and_an_explicit_none_clears(session, actor, make_invoice):
    invoice = make_invoice(discount={"type": "percent", "value": "10"}, notes="Thanks")
    update_draft(session, actor=actor, invoice_id=invoice.id, data=InvoiceChanges(notes="Due on receipt"))
    assert (invoice.notes, invoice.discount_type, invoice.total) == ("Due on receipt", "percent", 90)
    update_draft(session, actor=actor, invoice_id=invoice.id, data=InvoiceChanges(discount=None))
    assert (invoice.notes, invoice.discount_type, invoice.total) == ("Due on receipt", None, 100)


def test_a_mapping_becomes_typed_input_and_unknown_fields_are_refused_everywhere():
    draft = InvoiceDraft.from_mapping(
        {"client_id": 3, "discount": {"type": "fixed", "value": "5"}, "items": [{"description": "Work"}]}
    )
    assert draft.items == [ItemInput(description="Work")]
    assert draft.discount == DiscountInput(type="fixed", value="5")
    assert InvoiceChanges.from_mapping({"notes": "x"}).items is UNSET
    with pytest.raises(ValidationFailed) as refused:
        InvoiceDraft.from_mapping({"colour": "red", "items": [{"size": 1}], "discount": {"kind": "x"}})
    assert refused.value.errors == {
        "colour": ["is not a known field"],
        "items.0.size": ["is not a known field"],
        "discount.kind": ["is not a known field"],
    }
    with pytest.raises(ValidationFailed, match="body: must be an object"):
        InvoiceChanges.from_mapping(["not", "an", "object"])


def test_clients_expenses_payments_and_settings_are_built_the_same_way():
    assert ClientInput.from_mapping({"name": "Ada"}) == ClientInput(name="Ada")
    assert given(ClientChanges.from_mapping({"email": None})) == {"email": None}
    assert given(ExpenseChanges(amount="5")) == {"amount": "5"}
    assert PaymentInput.from_mapping({"amount": "5"}).method == "bank_transfer"
    with pytest.raises(ValidationFailed) as refused:
        ClientInput.from_mapping({"name": "Ada", "colour": "red"}, prefix="client.")
    assert refused.value.errors == {"client.colour": ["is not a known field"]}
    with pytest.raises(ValidationFailed) as refused:
        SettingsChanges.from_mapping({"company_name": "X", "theme": "dark"})
    assert refused.value.errors == {"theme": ["is not a setting"]}
    with pytest.raises(ValidationFailed, match="body: must be an object"):
        ExpenseInput.from_mapping("title")


def test_a_client_change_touches_only_the_fields_given(session, actor, make_client):
    client = make_client(billing_address="1 Marina Road", sms_opt_in=True)
    update_client(session, actor=actor, client_id=client.id, data=ClientChanges(name="Ada Okafor"))
    assert (client.name, client.billing_address, client.sms_opt_in) == ("Ada Okafor", "1 Marina Road", True)
