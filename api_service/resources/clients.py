from __future__ import annotations

from flask import request
from sqlalchemy import func, or_, select

from api_service.resources.base import BaseResource
from api_service.schemas import ClientIn, ClientPatch
from shared.db import db
from shared.inputs import ClientChanges, ClientInput
from shared.models import Client
from shared.representations import client_detail_json, client_json
from shared.services import create_client, delete_client, update_client
from shared.services.credit_notes import client_credit_balances


def client_response(client: Client) -> dict:
    """One client with its credit per currency (SPEC §11)."""
    return client_detail_json(client, client_credit_balances(db.session, client.id))


class ClientList(BaseResource):
    def get(self):
        query = select(Client)
        q = (request.args.get("q") or "").strip()
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(or_(func.lower(Client.name).like(pattern), func.lower(Client.email).like(pattern)))
        return self.paginate(query, Client.id, client_json)

    def post(self):
        client = create_client(db.session, actor=self.actor, data=ClientInput.from_mapping(self.body(ClientIn)))
        return client_json(client), 201


class ClientItem(BaseResource):
    def get(self, client_id: int):
        return client_response(self.get_object_or_404(Client, client_id))

    def patch(self, client_id: int):
        data = ClientChanges.from_mapping(self.body(ClientPatch))
        return client_response(update_client(db.session, actor=self.actor, client_id=client_id, data=data))

    def delete(self, client_id: int):
        delete_client(db.session, actor=self.actor, client_id=client_id)
        return "", 204
