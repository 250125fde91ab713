"""Unauthenticated resources: the index, the OpenAPI document and its HTML rendering."""

from __future__ import annotations

import json

from flask import make_response, render_template
from flask_restful import Resource

from api_service.openapi import openapi_document


class Index(Resource):
    def get(self):
        return {
            "name": "Invoicing API",
            "version": "v1",
            "openapi": "/api/v1/openapi.json",
            "docs": "/api/v1/docs",
        }


class OpenApiDocument(Resource):
    def get(self):
        return openapi_document()


class Docs(Resource):
    def get(self):
        document = openapi_document()
        html = render_template("api/docs.html", doc=document, dumps=lambda value: json.dumps(value, indent=2))
        response = make_response(html)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self'"
        return response
