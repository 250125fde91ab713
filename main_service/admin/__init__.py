"""The admin blueprint under /admin: staff sign in here and do the day's work (SPEC §6)."""

from flask import Blueprint
from flask_login import LoginManager

bp = Blueprint("admin", __name__, template_folder="../templates", static_folder="../static", static_url_path="/static")
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"

# Each module adds its pages to ``bp``.
from main_service.admin import (  # noqa: E402,F401
    auth,
    clients,
    credit_notes,
    dashboard,
    delivery,
    einvoices,
    expenses,
    invoices,
    payments,
    quotes,
    recurring,
    reports,
    settings,
    setup,
    statements,
    users,
    webhooks,
)
