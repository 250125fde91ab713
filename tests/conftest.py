"""Fixtures: a database test runs on SQLite and on PostgreSQL unless its module says otherwise.

A module (or a test) that only needs one backend says so with
``pytestmark = pytest.mark.backends("sqlite")``: pages, PDFs, messages and other
rendering read the same rows on either backend, so SQLite is enough for them;
what the database decides (locks, numbering, queue claims, SQL figures,
migrations, idempotency) runs on both. ``--backends sqlite`` limits a whole run
(``make test-fast``). Tests of other backends are deselected, not skipped.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local server's
``postgres`` database, used only to create a throwaway database per run).
Outside CI a missing server skips the Postgres half; with ``CI=true`` it fails.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

import shared.models  # noqa: F401
from shared.db import configure_engine, db
from shared.inputs import ClientInput, InvoiceDraft
from shared.models.rollups import rollup_differences
from shared.services import Actor, Notify, create_api_key, create_client, create_draft, create_user, issue_invoice
from support import ADMIN_PASSWORD, IN_CI, Browser, app_config, finish_setup, sign_in
from support.apps import reused_app
from support.databases import all_tables, empty_tables

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated database backends to run the database tests on (default: sqlite,postgresql)",
    )


def _backends_option(config) -> set[str]:
    chosen = {name.strip() for name in config.getoption("backends").split(",") if name.strip()}
    unknown = chosen - set(BACKENDS)
    if unknown or not chosen:
        raise pytest.UsageError(f"--backends takes {' and/or '.join(BACKENDS)}, not {config.getoption('backends')!r}")
    return chosen


def _parametrized_here(item, name: str) -> bool:
    """Whether the test itself names ``name`` in a parametrize mark (it then chose its backend on purpose)."""
    for mark in item.iter_markers("parametrize"):
        names = mark.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if name in names:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Keep each database test only on the backends its ``backends`` mark and ``--backends`` allow."""
    chosen = _backends_option(config)
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend is None:
            keep.append(item)
            continue
        allowed = set(chosen)
        mark = item.get_closest_marker("backends")
        if mark is not None and not _parametrized_here(item, "backend"):
            unknown = set(mark.args) - set(BACKENDS)
            if unknown or not mark.args:
                raise pytest.UsageError(f"{item.nodeid}: backends() takes {' and/or '.join(BACKENDS)}")
            allowed &= set(mark.args)
        if item.get_closest_marker("postgres_only"):
            allowed &= {"postgresql"}
        (keep if backend in allowed else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


COLLECTED_ON = dt.date.today()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Modules that name the day they run on ``TODAY = dt.date.today()`` (or ``YEAR``) get it again at each test.

    Read once at collection, a run that crosses midnight UTC compared the
    product's today with yesterday's, and six tests failed that pass a minute
    later. Only a value equal to the collection day is moved on (a module's
    fixed date stays). Fixtures and the test itself run after this hook.
    """
    module = getattr(item, "module", None)
    today = dt.date.today()
    if module is None or today == COLLECTED_ON:
        return
    if getattr(module, "TODAY", None) == COLLECTED_ON:
        module.TODAY = today
    if getattr(module, "YEAR", None) == COLLECTED_ON.year:
        module.YEAR = today.year


def _pg_admin_engine() -> sa.Engine | None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return engine
    except sa.exc.OperationalError:
        engine.dispose()
        return None


class Databases:
    """One database per backend for the whole run, emptied between tests."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.urls: dict[str, str] = {}
        self.engines: dict[str, sa.Engine] = {}
        self.pg_admin: sa.Engine | None = None
        self.pg_name: str | None = None
        self.pg_missing = False
        self._created: list[str] = []

    def create_database(self, backend: str, suffix: str = "") -> str:
        """A new empty database (no tables) and its URL."""
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / f'test-{uuid.uuid4().hex[:8]}{suffix}.db'}"
        admin = self._admin()
        name = f"invoicing_test_{uuid.uuid4().hex[:10]}{suffix}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def _admin(self) -> sa.Engine:
        if self.pg_admin is None and not self.pg_missing:
            self.pg_admin = _pg_admin_engine()
            self.pg_missing = self.pg_admin is None
        if self.pg_admin is None:
            message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}"
            if IN_CI:
                pytest.fail(message + " (required in CI)")
            pytest.skip(message)
        return self.pg_admin

    def url(self, backend: str) -> str:
        if backend not in self.urls:
            self.urls[backend] = self.create_database(backend)
            engine = self.engine(backend)
            db.metadata.create_all(engine)
        return self.urls[backend]

    def engine(self, backend: str) -> sa.Engine:
        if backend not in self.engines:
            url = self.url(backend) if backend not in self.urls else self.urls[backend]
            self.engines[backend] = configure_engine(sa.create_engine(url))
        return self.engines[backend]

    def empty(self, backend: str) -> None:
        with self.engines[backend].begin() as conn:
            empty_tables(conn, all_tables())

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        if self.pg_admin is not None:
            with self.pg_admin.connect() as conn:
                for name in self._created:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.pg_admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> Iterator[Databases]:
    # SQLite files in memory (tmpfs) where there is one: a commit there waits for no disk
    # (about 1.5 ms per commit on this machine's disk, tens of thousands of commits a run).
    # The files behave the same; only a crash of the machine would lose them.
    in_memory = Path("/dev/shm")
    if in_memory.is_dir() and os.access(in_memory, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="invoicing-tests-", dir=in_memory))
    else:
        folder = tmp_path_factory.mktemp("db")
    dbs = Databases(folder)
    try:
        yield dbs
    finally:
        dbs.close()
        if folder.parent == in_memory:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def engine(databases: Databases, backend: str) -> Iterator[sa.Engine]:
    databases.url(backend)
    engine = databases.engine(backend)
    yield engine
    databases.empty(backend)


@pytest.fixture(autouse=True)
def rollups_match_the_books(request) -> Iterator[None]:
    """After every test on the shared database, the running totals equal a fresh GROUP BY (shared.models.rollups).

    Catches any write path that forgets them. Requesting ``engine`` here makes
    this check run before the database is emptied.
    """
    if "engine" not in request.fixturenames:
        yield
        return
    engine = request.getfixturevalue("engine")
    yield
    with Session(engine) as session:
        differences = rollup_differences(session)
    if differences:
        pytest.fail("rollups out of step with the invoices and payments:\n" + "\n".join(differences))


@pytest.fixture
def database_url(databases: Databases, backend: str, engine: sa.Engine) -> str:
    return databases.urls[backend]


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def actor() -> Actor:
    return Actor.system("tests", is_admin=True)


@pytest.fixture
def make_client(session: Session, actor: Actor):
    counter = iter(range(1, 10_000))

    def make(**fields):
        n = next(counter)
        data = {"name": f"Client {n}", "email": f"client{n}@example.com", "phone": "+2348030000000"}
        data.update(fields)
        return create_client(session, actor=actor, data=ClientInput.from_mapping(data))

    return make


@pytest.fixture
def make_invoice(session: Session, actor: Actor, make_client):
    """A draft (or, with ``issue=True``, an issued invoice) with ``lines`` lines."""

    def make(*, lines: int = 1, issue: bool = False, client=None, notify: Notify = Notify(), **fields):
        client = client or make_client()
        data = {
            "client_id": client.id,
            "currency": "USD",
            "issue_date": dt.date.today().isoformat(),
            "items": [
                {"description": f"Item {i + 1}", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}
                for i in range(lines)
            ],
        }
        data.update(fields)
        invoice = create_draft(session, actor=actor, data=InvoiceDraft.from_mapping(data))
        if issue:
            invoice, _ = issue_invoice(session, actor=actor, invoice_id=invoice.id, notify=notify)
        return invoice

    return make


# ---------------------------------------------------------------- the apps, users and keys


@pytest.fixture
def admin_app(database_url):
    """The admin app (main_service) on the test database (made once per run: support.apps)."""
    import main_service

    with reused_app(main_service.create_app, app_config(database_url)) as app:
        with app.app_context():
            finish_setup(db.session)  # an install in use; tests/admin/test_first_run_setup.py starts fresh
            db.session.remove()
        yield app


@pytest.fixture
def api_app(database_url):
    """The API app on the test database (made once per run: support.apps)."""
    import api_service

    with reused_app(api_service.create_app, app_config(database_url)) as app:
        yield app


_HASHES: dict[tuple[str, str], str] = {}


def _remembered_password_hash(password: str, method: str = "scrypt", **options) -> str:
    """werkzeug's hash of ``password``, made once per run (a real scrypt hash; the salt is shared)."""
    key = (password, method)
    if key not in _HASHES:
        _HASHES[key] = generate_password_hash(password, method=method, **options)
    return _HASHES[key]


# werkzeug's check is a pure function of (hash, password): remembering its answer changes nothing but time.
_remembered_password_check = functools.lru_cache(maxsize=1024)(check_password_hash)


@pytest.fixture
def remembered_password_hashes(monkeypatch) -> None:
    """Fixture users cost one scrypt per run instead of three per test (~0.1 s each on a slow core);
    so does a sign-in with an e-mail that has no account (its check against a dummy hash).

    Their password hash is made once per run and the answer of checking a
    password against a hash is remembered; both are werkzeug's own. Tests of
    hashing itself (tests/security/test_passwords_and_secrets.py) and of sign-in
    timing make their users without this fixture, so they see the real cost.
    """
    monkeypatch.setattr("shared.models.users.generate_password_hash", _remembered_password_hash)
    monkeypatch.setattr("shared.models.users.check_password_hash", _remembered_password_check)
    # The sign-in of an unknown e-mail checks the password against a dummy hash, for equal work.
    monkeypatch.setattr("shared.services.sign_in.check_password_hash", _remembered_password_check)


@pytest.fixture
def users(admin_app, remembered_password_hashes) -> dict[str, int]:
    """admin@example.com and staff@example.com, both with ADMIN_PASSWORD."""
    with admin_app.app_context():
        made = {
            role: create_user(
                db.session,
                actor=Actor.system(),
                email=f"{role}@example.com",
                name=f"{role.title()} User",
                role=role,
                password=ADMIN_PASSWORD,
            ).id
            for role in ("admin", "staff")
        }
        db.session.remove()
        return made


@pytest.fixture
def admin(admin_app, users) -> Browser:
    return sign_in(admin_app, "admin@example.com")


@pytest.fixture
def staff(admin_app, users) -> Browser:
    return sign_in(admin_app, "staff@example.com")


@pytest.fixture
def keys(api_app) -> dict[str, str]:
    """One API key secret per scope: read, write, admin."""
    with api_app.app_context():
        made = {
            scope: create_api_key(db.session, actor=Actor.system("tests"), name=f"{scope} key", scope=scope)[1]
            for scope in ("read", "write", "admin")
        }
        db.session.remove()
        return made
