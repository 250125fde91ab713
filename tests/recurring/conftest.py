"""A factory for recurring invoices (SPEC §12)."""

from __future__ import annotations

import pytest

from shared.inputs import RecurringInvoiceInput
from shared.services.recurring import create_recurring_invoice


@pytest.fixture
def make_recurring(session, actor, make_client):
    def make(*, client=None, today=None, **fields):
        client = client or make_client()
        data = {
            "client_id": client.id,
            "currency": "USD",
            "items": [{"description": "Monthly retainer", "quantity": "1", "unit_price": "250.00", "tax_rate": "0"}],
            "interval": "month",
        }
        data.update(fields)
        return create_recurring_invoice(
            session, actor=actor, data=RecurringInvoiceInput.from_mapping(data), today=today
        )

    return make
