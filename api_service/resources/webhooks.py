"""Webhook endpoints and their deliveries (SPEC §15): admin-scoped keys only."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api_service.resources.base import BaseResource, query_choice
from api_service.schemas import EmptyIn, WebhookEndpointIn, WebhookEndpointPatch
from shared.db import db
from shared.inputs import WebhookEndpointChanges, WebhookEndpointInput
from shared.models import WebhookDelivery, WebhookEndpoint
from shared.models.enums import WEBHOOK_DELIVERY_STATES
from shared.representations import webhook_delivery_json, webhook_endpoint_json
from shared.services.webhooks import (
    create_webhook_endpoint,
    delete_webhook_endpoint,
    retry_webhook_delivery,
    rotate_webhook_secret,
    send_test_event,
    update_webhook_endpoint,
)

ADMIN_ONLY = {method: "admin" for method in ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE")}


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


class WebhookResource(BaseResource):
    scopes = ADMIN_ONLY


class WebhookEndpointList(WebhookResource):
    def get(self):
        return self.paginate(select(WebhookEndpoint), WebhookEndpoint.id, webhook_endpoint_json)

    def post(self):
        data = WebhookEndpointInput.from_mapping(self.body(WebhookEndpointIn))
        endpoint = create_webhook_endpoint(db.session, actor=self.actor, data=data, allow_private=_allow_private())
        return webhook_endpoint_json(endpoint, secret=True), 201


class WebhookEndpointItem(WebhookResource):
    def get(self, endpoint_id: int):
        return webhook_endpoint_json(self.get_object_or_404(WebhookEndpoint, endpoint_id, label="webhook endpoint"))

    def patch(self, endpoint_id: int):
        data = WebhookEndpointChanges.from_mapping(self.body(WebhookEndpointPatch))
        endpoint = update_webhook_endpoint(
            db.session, actor=self.actor, endpoint_id=endpoint_id, data=data, allow_private=_allow_private()
        )
        return webhook_endpoint_json(endpoint)

    def delete(self, endpoint_id: int):
        delete_webhook_endpoint(db.session, actor=self.actor, endpoint_id=endpoint_id)
        return "", 204


class WebhookEndpointRotateSecret(WebhookResource):
    def post(self, endpoint_id: int):
        self.body(EmptyIn)
        endpoint = rotate_webhook_secret(db.session, actor=self.actor, endpoint_id=endpoint_id)
        return webhook_endpoint_json(endpoint, secret=True)


class WebhookEndpointTest(WebhookResource):
    def post(self, endpoint_id: int):
        self.body(EmptyIn)
        return webhook_delivery_json(send_test_event(db.session, actor=self.actor, endpoint_id=endpoint_id)), 202


class WebhookEndpointDeliveries(WebhookResource):
    def get(self, endpoint_id: int):
        self.get_object_or_404(WebhookEndpoint, endpoint_id, label="webhook endpoint")
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(selectinload(WebhookDelivery.event))
        )
        state = query_choice("state", WEBHOOK_DELIVERY_STATES)
        if state:
            query = query.where(WebhookDelivery.state == state)
        return self.paginate(query, WebhookDelivery.id, webhook_delivery_json)


class WebhookDeliveryRetry(WebhookResource):
    def post(self, delivery_id: int):
        self.body(EmptyIn)
        return webhook_delivery_json(retry_webhook_delivery(db.session, actor=self.actor, delivery_id=delivery_id))
