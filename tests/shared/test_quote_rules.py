"""The quote's named questions and its number setting (SPEC §13), without a door."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shared.errors import ValidationFailed
from shared.inputs import QuoteDraft, SettingsChanges
from shared.models import Quote
from shared.models.enums import QuoteStatus
from shared.queries import open_quotes, quotes_matching
from shared.services import Actor, Notify, accept_quote, create_quote, send_quote
from shared.services.settings import update_settings

TODAY = dt.date.today()


@pytest.fixture
def make_quote(session, actor, make_client):
    def make(**fields) -> Quote:
        data = {
            "client_id": make_client().id,
            "currency": "USD",
            "items": [{"description": "Work", "quantity": "1", "unit_price": "100.00"}],
            **fields,
        }
        return create_quote(session, actor=actor, data=QuoteDraft.from_mapping(data))

    return make


def test_the_quote_number_format_is_a_setting_like_the_others(session, actor, make_quote):
    with pytest.raises(ValidationFailed) as refused:
        update_settings(session, actor=actor, data=SettingsChanges(quote_number_format="QUO-{seq}"))
    assert "quote_number_format" in refused.value.errors
    update_settings(session, actor=actor, data=SettingsChanges(quote_number_format="Q{year}/{seq:04d}"))
    quote, _ = send_quote(session, actor=actor, quote_id=make_quote().id, notify=Notify())
    assert quote.number == f"Q{TODAY.year}/0001"


def test_expired_is_derived_the_same_in_python_and_sql_and_the_last_day_still_counts(session, actor, make_quote):
    week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
    lapsed = make_quote(issue_date=week_ago, valid_until=TODAY.isoformat())
    lapsed, _ = send_quote(session, actor=actor, quote_id=lapsed.id)
    fresh, _ = send_quote(session, actor=actor, quote_id=make_quote().id)
    assert not lapsed.is_expired_on(TODAY) and lapsed.is_expired_on(TODAY + dt.timedelta(days=1))
    assert lapsed.status_on(TODAY + dt.timedelta(days=1)) == QuoteStatus.EXPIRED
    tomorrow = TODAY + dt.timedelta(days=1)
    in_sql = session.scalars(select(Quote.id).where(Quote.is_expired_on(tomorrow))).all()
    assert in_sql == [lapsed.id]
    assert {q.id for q in open_quotes(session, limit=10)} == {lapsed.id, fresh.id}
    accept_quote(session, actor=Actor.public(), quote_id=lapsed.id, name="Ada")
    assert not lapsed.is_expired_on(tomorrow)  # an accepted quote never expires
    assert session.scalars(quotes_matching(status=QuoteStatus.ACCEPTED)).all() == [lapsed]
