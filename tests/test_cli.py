"""The command line of SPEC §4: ``flask --app main_service <command>``.

Most checks drive the commands through Flask's CLI runner against the test
database (SQLite and PostgreSQL); a few run the real ``flask`` script in a
subprocess to prove the installed command line works end to end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import main_service
from shared import money
from shared.db import db
from shared.models import ApiKey, Expense, Invoice, Payment, User
from shared.models.enums import EXPENSE_STATES, INVOICE_STATES
from support import ROOT, app_config
from support.apps import reused_app
from support.processes import FLASK, clean_env

# The commands' own logic runs on SQLite; Postgres is where `db upgrade` and a missing server differ.
pytestmark = pytest.mark.backends("sqlite")

SECRET = "cli-test-secret-key-that-is-long-enough-0123456789"
GOOD_PASSWORD = "correct-horse-battery"


# ---------------------------------------------------------------- helpers


def run_flask(
    *args: str, database_url: str, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FLASK, "--app", "main_service", *args],
        cwd=ROOT,
        env=clean_env(DATABASE_URL=database_url, SECRET_KEY=SECRET),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def count(engine: sa.Engine, model) -> int:
    # A short-lived session: on SQLite every transaction is BEGIN IMMEDIATE,
    # so a session left open would block the command under test.
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def one_user(engine: sa.Engine) -> User:
    with Session(engine, expire_on_commit=False) as s:
        users = s.scalars(select(User)).all()
        assert len(users) == 1, users
        s.expunge_all()
        return users[0]


def assert_one_line_error(result, *words: str) -> None:
    """Non-zero exit, exactly one ``error: ...`` line naming the problem, no traceback."""
    assert result.exit_code != 0, result.output
    everything = result.output + (result.stderr or "")
    assert "Traceback" not in everything
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


@pytest.fixture
def app(database_url):
    with reused_app(main_service.create_app, app_config(database_url)) as app:
        yield app
        with app.app_context():
            db.session.remove()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


# ---------------------------------------------------------------- create-user


def test_create_user_with_password_option(cli, engine):
    result = cli(
        "create-user", "--email", "Ada@Example.com", "--name", "Ada", "--role", "admin", "--password", GOOD_PASSWORD
    )
    assert result.exit_code == 0, result.output
    user = one_user(engine)
    assert user.email == "ada@example.com"
    assert user.name == "Ada"
    assert user.role == "admin"
    assert user.password_hash != GOOD_PASSWORD
    assert GOOD_PASSWORD not in user.password_hash
    assert user.check_password(GOOD_PASSWORD)
    assert not user.check_password(GOOD_PASSWORD + "x")


def test_create_user_reads_password_from_stdin(cli, engine):
    result = cli(
        "create-user",
        "--email",
        "staff@example.com",
        "--name",
        "Sam Staff",
        "--role",
        "staff",
        "--password",
        "-",
        input=GOOD_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = one_user(engine)
    assert user.role == "staff"
    assert user.check_password(GOOD_PASSWORD)
    assert GOOD_PASSWORD not in result.output


def test_create_user_prompts_for_password_with_confirmation(cli, engine):
    result = cli(
        "create-user",
        "--email",
        "prompted@example.com",
        "--name",
        "Pat",
        "--role",
        "staff",
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert GOOD_PASSWORD not in result.output  # hidden input is not echoed
    assert one_user(engine).check_password(GOOD_PASSWORD)


def test_create_user_prompt_rejects_a_mismatched_confirmation(cli, engine):
    other = "another-password-123"
    result = cli(
        "create-user",
        "--email",
        "prompted@example.com",
        "--name",
        "Pat",
        "--role",
        "staff",
        input=f"{GOOD_PASSWORD}\n{other}\n{other}\n{other}\n",
    )
    assert result.exit_code == 0, result.output
    assert "match" in result.output.lower()
    assert one_user(engine).check_password(other)


def test_create_user_refuses_a_duplicate_email(cli, engine):
    args = ["create-user", "--email", "dup@example.com", "--name", "First", "--role", "admin", "--password"]
    assert cli(*args, GOOD_PASSWORD).exit_code == 0
    result = cli(*args[:-5], "--name", "Second", "--role", "staff", "--password", "other-password-456")
    assert_one_line_error(result, "dup@example.com", "exists")
    user = one_user(engine)
    assert user.name == "First"
    assert user.check_password(GOOD_PASSWORD)


def test_create_user_duplicate_email_is_case_insensitive(cli, engine):
    base = ["--name", "N", "--role", "staff", "--password", GOOD_PASSWORD]
    assert cli("create-user", "--email", "case@example.com", *base).exit_code == 0
    result = cli("create-user", "--email", "CASE@Example.COM", *base)
    assert_one_line_error(result, "exists")
    assert count(engine, User) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--email", "x@example.com", "--role", "boss", "--password", GOOD_PASSWORD], ["role", "admin", "staff"]),
        (["--email", "x@example.com", "--role", "admin", "--password", "short"], ["password", "10"]),
        (["--email", "not-an-email", "--role", "admin", "--password", GOOD_PASSWORD], ["email"]),
        (["--email", "x@", "--role", "staff", "--password", GOOD_PASSWORD], ["email"]),
        (["--email", "x@example.com", "--role", "staff", "--password", " padded-password "], ["password"]),
    ],
    ids=["bad-role", "short-password", "bad-email", "half-email", "spaces-password"],
)
def test_create_user_bad_input_is_one_line_and_creates_nothing(cli, engine, args, words):
    result = cli("create-user", "--name", "Nobody", *args)
    assert_one_line_error(result, *words)
    assert count(engine, User) == 0


def test_create_user_bad_role_is_refused_before_prompting(cli, engine):
    result = cli("create-user", "--email", "x@example.com", "--name", "N", "--role", "root", input="")
    assert_one_line_error(result, "role")
    assert "Password" not in result.stdout
    assert count(engine, User) == 0


def test_create_user_empty_stdin_password_is_refused(cli, engine):
    result = cli(
        "create-user", "--email", "x@example.com", "--name", "N", "--role", "staff", "--password", "-", input=""
    )
    assert_one_line_error(result, "password")
    assert count(engine, User) == 0


@pytest.mark.slow
def test_create_user_real_command_line(database_url, engine):
    result = run_flask(
        "create-user",
        "--email",
        "sub@example.com",
        "--name",
        "Sub Process",
        "--role",
        "admin",
        "--password",
        "-",
        database_url=database_url,
        input=GOOD_PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    user = one_user(engine)
    assert user.email == "sub@example.com"
    assert user.check_password(GOOD_PASSWORD)

    again = run_flask(
        "create-user",
        "--email",
        "sub@example.com",
        "--name",
        "Again",
        "--role",
        "staff",
        "--password",
        GOOD_PASSWORD,
        database_url=database_url,
    )
    assert again.returncode != 0
    assert "Traceback" not in again.stderr + again.stdout
    errors = [line for line in again.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "exists" in errors[0], again.stderr
    assert count(engine, User) == 1


# ---------------------------------------------------------------- create-api-key


def api_key_rows(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.text("SELECT * FROM api_keys"))]


def test_create_api_key_prints_key_last_and_stores_only_its_hash(cli, engine):
    result = cli("create-api-key", "--name", "Billing bridge", "--scope", "read")
    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").splitlines()
    key = lines[-1]
    assert key == key.strip() and " " not in key and len(key) >= 32, lines
    assert sum(key in line for line in lines) == 1  # printed once

    rows = api_key_rows(engine)
    assert len(rows) == 1
    row = rows[0]
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["scope"] == "read"
    assert row["name"] == "Billing bridge"
    for column, value in row.items():
        assert key not in str(value), column
    # Nowhere else either (the activity trail, for one).
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for values in conn.execute(sa.select(table)):
                assert all(key not in str(v) for v in values), table.name


def test_create_api_key_default_scope_is_write(cli, engine):
    result = cli("create-api-key", "--name", "Shop")
    assert result.exit_code == 0, result.output
    key = result.stdout.rstrip("\n").splitlines()[-1]
    with Session(engine) as s:
        stored = s.scalars(select(ApiKey)).one()
        assert stored.scope == "write"
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_create_api_key_keys_differ(cli, engine):
    keys = {cli("create-api-key", "--name", f"k{i}").stdout.rstrip("\n").splitlines()[-1] for i in range(3)}
    assert len(keys) == 3
    assert count(engine, ApiKey) == 3


@pytest.mark.parametrize("scope", ["superuser", "READ", ""])
def test_create_api_key_bad_scope_is_refused(cli, engine, scope):
    result = cli("create-api-key", "--name", "Bad", "--scope", scope)
    assert_one_line_error(result, "scope", "read", "write", "admin")
    assert count(engine, ApiKey) == 0


def test_create_api_key_blank_name_is_refused(cli, engine):
    result = cli("create-api-key", "--name", "   ")
    assert_one_line_error(result, "name")
    assert count(engine, ApiKey) == 0


@pytest.mark.slow
def test_create_api_key_real_command_line(database_url, engine):
    result = run_flask("create-api-key", "--name", "Subprocess", "--scope", "admin", database_url=database_url)
    assert result.returncode == 0, result.stderr
    key = result.stdout.rstrip("\n").splitlines()[-1]
    rows = api_key_rows(engine)
    assert [r["scope"] for r in rows] == ["admin"]
    assert rows[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in result.stderr


# ---------------------------------------------------------------- seed-demo


def test_seed_demo_creates_every_state_with_consistent_totals(cli, engine):
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    today = dt.date.today()
    with Session(engine) as s:
        invoices = s.scalars(select(Invoice)).all()
        statuses = {i.status for i in invoices}
        assert set(INVOICE_STATES) <= statuses, statuses
        overdue = [i for i in invoices if i.status != "void" and i.due_date < today and i.balance_due > 0]
        assert overdue, "no overdue invoice"
        assert all(i.is_overdue(today) for i in overdue)

        for invoice in invoices:
            if invoice.status == "draft":
                assert invoice.number is None, invoice
            else:
                assert invoice.number, invoice
                assert invoice.issued_at is not None, invoice
        numbers = [i.number for i in invoices if i.number]
        assert len(numbers) == len(set(numbers))

        for invoice in invoices:
            assert invoice.lines, invoice
            discount = (
                money.Discount(kind=invoice.discount_type, value=invoice.discount_value)
                if invoice.discount_type and invoice.discount_value
                else None
            )
            totals = money.compute_totals(
                [money.LineInput(li.quantity, li.unit_price, li.tax_rate) for li in invoice.lines],
                invoice.currency,
                discount,
                invoice.tax_rounding,
            )
            assert invoice.subtotal == totals.subtotal, invoice
            assert invoice.discount_total == totals.discount_total, invoice
            assert invoice.tax_total == totals.tax_total, invoice
            assert invoice.total == totals.total, invoice
            for line, expected in zip(invoice.lines, totals.lines, strict=True):
                assert (line.amount, line.discount, line.tax) == (expected.amount, expected.discount, expected.tax)
            live = sum((p.amount for p in invoice.payments if p.voided_at is None), Decimal(0))
            assert invoice.amount_paid == live, invoice
            if invoice.status == "paid":
                assert invoice.balance_due == 0 and live > 0
            if invoice.status == "partially_paid":
                assert 0 < live < invoice.total

        payments = s.scalars(select(Payment)).all()
        assert payments
        assert all(p.receipt_number for p in payments)
        assert len({p.receipt_number for p in payments}) == len(payments)

        expense_states = set(s.scalars(select(Expense.status)).all())
        assert set(EXPENSE_STATES) <= expense_states, expense_states


# ---------------------------------------------------------------- ensure-admin


def password_from(output: str) -> str:
    match = re.search(r"password:\s*(\S+)", output)
    assert match, output
    return match.group(1)


def test_ensure_admin_creates_one_admin_once(cli, engine):
    first = cli("ensure-admin")
    assert first.exit_code == 0, first.output
    password = password_from(first.stdout)
    user = one_user(engine)
    assert user.role == "admin"
    assert user.check_password(password)
    assert user.password_hash != password

    second = cli("ensure-admin")
    assert second.exit_code == 0, second.output
    assert "password:" not in second.output
    assert password not in second.output
    assert count(engine, User) == 1


def test_ensure_admin_bad_email_is_one_line(cli, engine):
    result = cli("ensure-admin", "--email", "not-an-address")
    assert_one_line_error(result, "email")
    assert count(engine, User) == 0


def test_ensure_admin_does_nothing_when_users_exist(cli, engine):
    assert (
        cli(
            "create-user", "--email", "s@example.com", "--name", "S", "--role", "staff", "--password", GOOD_PASSWORD
        ).exit_code
        == 0
    )
    result = cli("ensure-admin")
    assert result.exit_code == 0, result.output
    assert "password:" not in result.output
    assert count(engine, User) == 1


# ---------------------------------------------------------------- no tables yet


@pytest.fixture
def empty_database_url(databases, backend) -> str:
    """A brand-new database on this backend, without any tables."""
    return databases.create_database(backend)


@pytest.mark.parametrize(
    "args",
    [
        ["create-user", "--email", "a@example.com", "--name", "A", "--role", "admin", "--password", GOOD_PASSWORD],
        ["create-api-key", "--name", "k"],
        ["ensure-admin"],
        ["seed-demo"],
    ],
    ids=["create-user", "create-api-key", "ensure-admin", "seed-demo"],
)
def test_commands_on_a_database_without_tables_say_to_migrate(empty_database_url, args):
    app = main_service.create_app(app_config(empty_database_url))
    try:
        result = app.test_cli_runner().invoke(args=args)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert_one_line_error(result, "db upgrade")


@pytest.mark.slow
def test_create_user_without_tables_real_command_line(empty_database_url):
    result = run_flask(
        "create-user",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--role",
        "admin",
        "--password",
        GOOD_PASSWORD,
        database_url=empty_database_url,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "db upgrade" in lines[0], result.stderr


UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory-for-tests/x.db",
    "postgresql": "postgresql://postgres@127.0.0.1:1/nowhere",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_commands_with_an_unreachable_database_say_so_in_one_line(backend):
    app = main_service.create_app(app_config(UNREACHABLE[backend]))
    try:
        result = app.test_cli_runner().invoke(args=["ensure-admin"])
    finally:
        with app.app_context():
            db.engine.dispose()
    assert_one_line_error(result, "database", "DATABASE_URL")


# ---------------------------------------------------------------- db upgrade


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_upgrade_on_a_new_database_creates_every_table(tmp_path, backend, databases):
    if backend == "sqlite":
        path = tmp_path / "fresh" / "x.db"
        path.parent.mkdir()
        path.touch()  # an empty file, as a newcomer might have
        url = f"sqlite:///{path}"
    else:
        url = databases.create_database(backend)
    result = run_flask("db", "upgrade", database_url=url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr

    engine = sa.create_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    expected = set(db.metadata.tables)
    assert expected <= tables, expected - tables
    assert "alembic_version" in tables

    # Running it again is a no-op, and the migrated schema takes a user (ensure-admin's own
    # logic, in process: its real command line is make run's, in tests/test_make_run.py).
    assert run_flask("db", "upgrade", database_url=url).returncode == 0
    app = main_service.create_app(app_config(url))
    try:
        created = app.test_cli_runner().invoke(args=["ensure-admin"])
    finally:
        with app.app_context():
            db.engine.dispose()
    assert created.exit_code == 0, created.output
    assert "password:" in created.stdout
