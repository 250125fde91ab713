"""The ``/api/v1`` blueprint and its route table."""

from __future__ import annotations

from flask import Blueprint
from flask_restful import Api, Resource


class ProblemApi(Api):
    """Flask-RESTful, but every error is answered by the app's problem+json handlers.

    Flask-RESTful's own ``handle_error`` would answer a 405 (or any HTTP error
    in a resource) with ``{"message": ...}`` as application/json, and turn a
    DomainError raised in a resource into a 500. Re-raising here makes its
    error router fall back to the handlers of :mod:`api_service.errors`.
    """

    def handle_error(self, e):
        raise e


bp = Blueprint("api", __name__, url_prefix="/api/v1")
api = ProblemApi(bp)


class Index(Resource):
    def get(self):
        return {"name": "Invoicing API", "version": "v1"}


api.add_resource(Index, "/")
