"""Command-line tools of SPEC §4, run as ``flask --app main_service <command>``."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from shared.db import db
from shared.errors import DomainError, ValidationFailed
from shared.models import User
from shared.models.enums import API_SCOPES, ROLES
from shared.services import Actor, create_api_key, create_user


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _domain_message(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{field} {msg}" for field, msgs in exc.errors.items() for msg in msgs)
    return exc.message


def _require_schema() -> None:
    try:
        migrated = inspect(db.engine).has_table("users")
    except OperationalError as exc:
        reason = (str(exc.orig or exc).strip().splitlines() or ["unknown error"])[0]
        where = db.engine.url.render_as_string(hide_password=True)
        _fail(f"cannot reach the database at {where} (DATABASE_URL): {reason}")
    if not migrated:
        _fail("the database has no tables yet; run: flask --app main_service db upgrade")


def register_commands(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--email", required=True, help="Sign-in e-mail address.")
    @click.option("--name", required=True, help="Name shown in the UI and on activity.")
    # Checked in the command, not by click.Choice, so a bad value gets the same
    # one-line "error: ..." as every other refusal instead of a usage block.
    @click.option("--role", required=True, metavar="|".join(ROLES), help="admin or staff.")
    @click.option("--password", default=None, help="Password; prompted when omitted, '-' reads it from stdin.")
    def create_user_command(email: str, name: str, role: str, password: str | None) -> None:
        """Create a user who can sign in to /admin."""
        _require_schema()
        if role not in ROLES:
            _fail(f"--role must be one of {', '.join(ROLES)} (got {role!r})")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        elif password == "-":
            password = sys.stdin.readline().rstrip("\r\n")
        try:
            user = create_user(
                db.session, actor=Actor.system("cli"), email=email, name=name, role=role, password=password
            )
        except DomainError as exc:
            _fail(_domain_message(exc))
        click.echo(f"Created {user.role} {user.email}.")

    @app.cli.command("create-api-key")
    @click.option("--name", required=True, help="Which system uses the key.")
    @click.option(
        "--scope", default="write", show_default=True, metavar="|".join(API_SCOPES), help="read, write or admin."
    )
    def create_api_key_command(name: str, scope: str) -> None:
        """Create an API key; it is printed once, alone on the last line."""
        _require_schema()
        if scope not in API_SCOPES:
            _fail(f"--scope must be one of {', '.join(API_SCOPES)} (got {scope!r})")
        try:
            key, secret = create_api_key(db.session, actor=Actor.system("cli"), name=name, scope=scope)
        except DomainError as exc:
            _fail(_domain_message(exc))
        click.echo(
            f"Created {key.scope} API key {key.name!r} (prefix {key.prefix}). Store it now; it is not shown again:"
        )
        click.echo(secret)

    @app.cli.command("ensure-admin")
    @click.option("--email", default="admin@example.com", show_default=True)
    def ensure_admin_command(email: str) -> None:
        """Create a first admin with a generated password when there are no users."""
        _require_schema()
        if db.session.scalar(select(func.count()).select_from(User)):
            click.echo("Users exist already; no admin created.")
            return
        password = secrets.token_urlsafe(12)
        try:
            create_user(
                db.session,
                actor=Actor.system("setup"),
                email=email,
                name="Administrator",
                role="admin",
                password=password,
            )
        except DomainError as exc:
            _fail(_domain_message(exc))
        click.echo("First admin created. Sign in at /admin with:")
        click.echo(f"  e-mail:   {email}")
        click.echo(f"  password: {password}")
        click.echo("This password is shown only once.")

    @app.cli.command("rebuild-rollups")
    def rebuild_rollups_command() -> None:
        """Recompute the dashboard's running totals from every invoice and payment (after a bulk load)."""
        from shared.models.rollups import rebuild_rollups, rollup_differences
        from shared.services import atomic

        _require_schema()
        with atomic(db.session):
            differences = rollup_differences(db.session)
            rebuilt = rebuild_rollups(db.session)
        for line in differences:
            click.echo(f"was out of step: {line}")
        click.echo(
            f"Rebuilt the rollups: {rebuilt.invoice_rows} invoice rows and {rebuilt.payment_rows} payment rows; "
            f"{len(differences)} differed from the invoices and payments."
        )

    @app.cli.command("seed-demo")
    @click.option("--invoices", type=click.IntRange(0, 200_000), default=None, help="Extra random invoices to add.")
    @click.option("--seed", type=int, default=2026, show_default=True, help="Random seed, for repeatable data.")
    def seed_demo_command(invoices: int | None, seed: int) -> None:
        """Fill the database with a realistic demo company (and, with --invoices N, N more invoices in bulk)."""
        from main_service.demo import bulk_invoices, seed_demo

        _require_schema()
        try:
            summary = seed_demo(db.session, seed=seed, echo=click.echo)
            if invoices:
                with click.progressbar(length=invoices, label="Adding invoices", show_pos=True) as bar:
                    added = bulk_invoices(db.session, count=invoices, seed=seed, progress=bar.update)
                states = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(added.by_status.items()))
                click.echo(
                    f"Added {added.invoices} invoices ({states}) with {added.lines} lines, "
                    f"{added.payments} payments, {added.clients} more clients and {added.expenses} expenses."
                )
        except DomainError as exc:
            _fail(_domain_message(exc))
        click.echo(summary)
