"""Alembic environment for the CineStudio workspace database.

Two ways in:
- the application (`cinestudio.store.db.Database.upgrade`) passes an open connection, already
  inside a ``BEGIN IMMEDIATE`` transaction, in ``config.attributes["connection"]``;
- a developer runs ``alembic`` from the repository root (``alembic.ini`` there); the database is
  ``-x db=PATH_OR_URL``, else ``$CINESTUDIO_DATABASE_URL``, else ``sqlalchemy.url`` from the ini.
  The engine gets the same connection set-up as the application's (pragmas, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from cinestudio.store.db import create_database_engine, database_url
from cinestudio.store.models import metadata

config = context.config

if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata

CONFIGURE_OPTIONS = dict(
    target_metadata=target_metadata,
    render_as_batch=True,       # ALTER on SQLite goes through table rebuilds
    compare_type=True,
)


def _target_url() -> str:
    return (context.get_x_argument(as_dictionary=True).get("db")
            or os.environ.get("CINESTUDIO_DATABASE_URL")
            or config.get_main_option("sqlalchemy.url")
            or "")


def run_migrations_offline() -> None:
    context.configure(url=database_url(_target_url()), literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, **CONFIGURE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **CONFIGURE_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    target = _target_url()
    if not target:
        raise SystemExit("no database: pass -x db=PATH_OR_URL or set CINESTUDIO_DATABASE_URL")
    engine = create_database_engine(database_url(target))
    try:
        with engine.begin() as conn:
            context.configure(connection=conn, **CONFIGURE_OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
