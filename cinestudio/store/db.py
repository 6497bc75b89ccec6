"""Engine and session set-up, SQLite tuning for several processes, and migrations on open.

``open_database(path_or_url)`` returns a `Database`. For SQLite, every new connection gets:

- ``PRAGMA busy_timeout`` (30 s): a writer waits for another process's write lock to go instead
  of failing at once with "database is locked";
- ``PRAGMA journal_mode=WAL``: readers never block writers nor writers readers. Switching a
  new (still rollback-journal) file to WAL needs the write lock, and SQLite does not apply the
  busy timeout to that switch: it fails with "database is locked" at once while another
  connection holds the lock (e.g. a second process opening a brand-new workspace while the
  first one switches it). `_enable_wal` retries it until the busy timeout has passed;
- ``PRAGMA foreign_keys=ON`` (SQLite leaves foreign keys off unless asked, per connection);
- ``PRAGMA synchronous=NORMAL``: durable across application crashes in WAL mode, and fast.

Python's sqlite3 driver is told to stay out of transaction control, and SQLAlchemy's ``begin``
event emits ``BEGIN IMMEDIATE`` for `Database.session()`: the write lock is taken when the
transaction starts, so two processes that read-then-write never deadlock (a deferred transaction
that upgrades to a writer fails with SQLITE_BUSY at once, whatever the busy timeout).
`Database.read_session()` uses a plain deferred ``BEGIN``: a consistent snapshot that never waits
for writers; do not write in it.

Migrations (Alembic, scripts in the repository's top-level ``db/`` folder, found through
`cinestudio.resources.PROJECT_ROOT` or the ``CINESTUDIO_MIGRATIONS`` environment variable) are
applied when a database is opened. The upgrade runs inside one ``BEGIN IMMEDIATE`` transaction
(SQLite has transactional DDL), so two processes opening a fresh workspace at once do not race:
the second waits (first for the WAL switch, then for the write lock), then finds the schema at
head. Developers can also run the ``alembic`` command with the ``alembic.ini`` at the repository
root (see ``db/README.md``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from cinestudio.errors import UserInputError
from cinestudio.resources import PROJECT_ROOT

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "cinestudio_read_only"
_SQLITE_BUSY = 5  # SQLite's primary result code (sqlite3.SQLITE_BUSY from Python 3.11)
_MIGRATION_LOCK_ID = 0x43494E45  # any constant shared by every CineStudio process ("CINE")


def migrations_dir() -> Path:
    """The Alembic script folder (``db/`` at the project root; ``CINESTUDIO_MIGRATIONS`` overrides)."""
    override = os.environ.get("CINESTUDIO_MIGRATIONS")
    return Path(override) if override else PROJECT_ROOT / "db"


def database_url(target: str | os.PathLike[str] | URL) -> URL:
    """A SQLAlchemy URL for a database URL string, a URL, or a path to a SQLite file."""
    if isinstance(target, URL):
        return target
    if isinstance(target, str) and "://" in target:
        return make_url(target)
    # URL.create keeps any character of the path as it is (spaces, '#', '?', non-ASCII).
    return URL.create("sqlite+pysqlite", database=os.fspath(Path(target).expanduser().resolve()))


def _is_busy(exc: BaseException) -> bool:
    """Whether a DB-API error is SQLITE_BUSY ("database is locked"), extended codes included."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF == _SQLITE_BUSY
    return "database is locked" in str(exc)


def _enable_wal(cursor: Any) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the write lock.

    A no-op once the file is in WAL mode. The switch from rollback-journal mode writes the file
    header under the write lock, and SQLite fails it with SQLITE_BUSY at once rather than call
    the busy handler, so we wait here, up to the busy timeout, like any other writer. Returns
    the journal mode SQLite reports. Errors other than SQLITE_BUSY (not a database...) are raised
    at once.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            return str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except Exception as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see `_on_begin`); sqlite3 still commits/rolls back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                mode = _enable_wal(cursor)
                if str(mode).lower() != "wal":  # e.g. some network file systems
                    log.warning("SQLite refused WAL mode (journal_mode=%s) for %s", mode, engine.url)
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """An engine, its session factories, and the schema's migration state.

    Thread-safe: each `session()` / `read_session()` checks a connection out of the pool, so
    worker threads (GUI) and processes (jobs) can each use the store at the same time.
    """

    def __init__(self, url: URL, engine: Engine):
        self.url = url
        self.engine = engine
        self._write_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            bind=engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        session = self._write_sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only snapshot; never waits for writers (WAL). Always rolled back."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    # -- migrations ------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection | None = None) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        # '%' is ConfigParser interpolation syntax; the URL is only informative here.
        cfg.set_main_option("sqlalchemy.url",
                            self.url.render_as_string(hide_password=False).replace("%", "%%"))
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def schema_revision(self) -> str | None:
        """The revision the database is at (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect().execution_options(**{_READ_ONLY: True}) as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to `revision` (no-op when already there).

        Raises `UserInputError` for a file that is not a database, or a database whose schema
        is newer than this version of CineStudio knows.
        """
        from alembic import command
        from alembic.script import ScriptDirectory

        try:
            current = self.schema_revision()
        except DatabaseError as exc:
            raise UserInputError(self._subject(), f"not a usable database ({exc.orig})") from None
        script = ScriptDirectory.from_config(self._alembic_config())
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise UserInputError(self._subject(),
                                 f"database schema {current} is newer than this CineStudio "
                                 f"knows (newest: {script.get_current_head()}); update CineStudio")
        if revision == "head" and current == script.get_current_head():
            return

        # One write transaction around the whole upgrade (see the module docstring). SQLite's
        # BEGIN IMMEDIATE serialises concurrent upgraders; PostgreSQL needs an explicit lock.
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            command.upgrade(self._alembic_config(conn), revision)

    def _subject(self) -> str:
        if self.is_sqlite and self.url.database:
            return self.url.database
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def create_database_engine(url: URL, **engine_kwargs: Any) -> Engine:
    """An engine for `url` with CineStudio's connection set-up (SQLite pragmas and BEGIN mode)."""
    engine = create_engine(url, **engine_kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def open_database(target: str | os.PathLike[str] | URL, *, migrate: bool = True,
                  **engine_kwargs: Any) -> Database:
    """Open (creating it if need be) the database at a SQLite path or a database URL.

    With `migrate` (the default) the schema is brought to the newest revision first.
    """
    url = database_url(target)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    db = Database(url, create_database_engine(url, **engine_kwargs))
    if migrate:
        try:
            db.upgrade()
        except BaseException:
            db.dispose()
            raise
    return db

