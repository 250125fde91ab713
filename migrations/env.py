"""Alembic environment for all three services (one tree, run through Flask-Migrate)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from shared.db import Fixed4, UTCDateTime

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
engine = migrate_ext.db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
target_metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types as imports of shared.db, not as their impl."""
    if type_ == "type" and isinstance(obj, (Fixed4, UTCDateTime)):
        autogen_context.imports.add("import shared.db")
        return f"shared.db.{type(obj).__name__}()"
    return False


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Compare our decorated types by what they store on this database."""
    if isinstance(metadata_type, (Fixed4, UTCDateTime)):
        stored = metadata_type.load_dialect_impl(context.dialect)
        if isinstance(metadata_type, UTCDateTime):
            stored = metadata_type.impl
        return context.impl.compare_type(inspected_column, _with_type(metadata_column, stored))
    return None


def _with_type(column, type_):
    copy = column._copy()
    copy.type = type_
    return copy


def options():
    return {
        "target_metadata": target_metadata,
        "render_as_batch": True,
        "compare_type": compare_type,
        "render_item": render_item,
        **migrate_ext.configure_args,
    } | {"compare_type": compare_type}


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    with engine.connect() as connection:
        context.configure(connection=connection, process_revision_directives=process_revision_directives, **options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
