from __future__ import annotations

from sqlalchemy import select

from api_service.resources.base import BaseResource, query_choice, query_int
from api_service.schemas import EmptyIn
from shared.db import db
from shared.models import QueuedMessage
from shared.models.enums import CHANNELS, MESSAGE_KINDS, MESSAGE_STATES
from shared.representations import notification_json
from shared.services import cancel_message, retry_message


class NotificationList(BaseResource):
    def get(self):
        query = select(QueuedMessage)
        for name, column, choices in (
            ("state", QueuedMessage.state, MESSAGE_STATES),
            ("channel", QueuedMessage.channel, CHANNELS),
            ("kind", QueuedMessage.kind, MESSAGE_KINDS),
        ):
            value = query_choice(name, choices)
            if value:
                query = query.where(column == value)
        invoice_id = query_int("invoice_id", low=1, high=2**31 - 1)
        if invoice_id:
            query = query.where(QueuedMessage.invoice_id == invoice_id)
        return self.paginate(query, QueuedMessage.id, notification_json)


class NotificationItem(BaseResource):
    def get(self, notification_id: int):
        return notification_json(self.get_object_or_404(QueuedMessage, notification_id, label="notification"))


class NotificationRetry(BaseResource):
    def post(self, notification_id: int):
        self.body(EmptyIn)
        return notification_json(retry_message(db.session, actor=self.actor, message_id=notification_id))


class NotificationCancel(BaseResource):
    def post(self, notification_id: int):
        self.body(EmptyIn)
        return notification_json(cancel_message(db.session, actor=self.actor, message_id=notification_id))
