"""The ``/api/v1`` blueprint and its route table."""

from __future__ import annotations

from flask import Blueprint
from flask_restful import Api, Resource

bp = Blueprint("api", __name__, url_prefix="/api/v1")
api = Api(bp)


class Index(Resource):
    def get(self):
        return {"name": "Invoicing API", "version": "v1"}


api.add_resource(Index, "/")
