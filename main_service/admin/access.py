"""Who is signed in, and what they may see."""

from __future__ import annotations

import functools

from flask import abort
from flask_login import UserMixin, current_user, login_required

from shared.models import User
from shared.services import Actor
from shared.services.sign_in import session_token


class SignedInUser(UserMixin):
    """Flask-Login's view of a :class:`User`; the shared model stays free of Flask-Login.

    Attribute reads (``name``, ``role``, ``is_admin``, ...) go to the wrapped
    user, which is also available as ``.user`` for services that need the model.
    """

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        # Flask-Login keeps this in the session and hands it back to the user loader.
        return session_token(self.user)

    @property
    def is_active(self) -> bool:
        return bool(self.user.is_active)

    def __getattr__(self, name: str):
        return getattr(self.user, name)


def actor() -> Actor:
    """The signed-in member of staff, as services record them."""
    return Actor.user(current_user.user)


def admin_required(view):
    """Sign-in first, then the admin role; staff get a 403 page."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
