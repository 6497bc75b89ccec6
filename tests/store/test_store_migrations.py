"""Migrations: applied on open, idempotent, reversible, and in step with the models."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cinestudio.errors import UserInputError
from cinestudio.store import open_database, open_workspace
from cinestudio.store.models import metadata

TABLES = {"sources", "clips", "labels", "label_movements", "prelabels", "reviews",
          "review_movements", "audit_log", "jobs", "settings", "storyboards", "storyboard_shots",
          "storyboard_renders", "alembic_version"}


def _diff(db, target=metadata):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, target)


def test_fresh_database_is_migrated_to_head_on_open(tmp_path):
    db = open_database(tmp_path / "fresh.db")
    try:
        assert db.schema_revision() == db.head_revision() is not None
        assert set(sa.inspect(db.engine).get_table_names()) == TABLES
    finally:
        db.dispose()


def test_reopening_is_idempotent_and_keeps_data(tmp_path):
    with open_workspace(tmp_path / "ws") as store:
        store.settings.set("k", [1, 2])
        revision = store.db.schema_revision()
        audit_rows = store.audit.count()
    for _ in range(2):
        with open_workspace(tmp_path / "ws") as store:
            assert store.db.schema_revision() == revision
            assert store.settings.get("k") == [1, 2]
            assert store.audit.count() == audit_rows


def test_migrated_schema_matches_the_models(tmp_path):
    db = open_database(tmp_path / "parity.db")
    try:
        assert _diff(db) == []
        # Named CHECK constraints are not compared by autogenerate: compare them here.
        insp = sa.inspect(db.engine)
        for table in metadata.sorted_tables:
            model_checks = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            db_checks = {c["name"] for c in insp.get_check_constraints(table.name)}
            assert db_checks == model_checks, table.name
    finally:
        db.dispose()


def test_parity_check_does_see_a_difference(tmp_path):
    """Guard against a vacuous parity test: a model change must show up as a diff."""
    db = open_database(tmp_path / "parity.db")
    try:
        changed = sa.MetaData()
        for table in metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["clips"].append_column(sa.Column("notes", sa.Text()))
        changed.tables["labels"].c.caption.type = sa.Integer()
        kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in _diff(db, changed)}
        assert "add_column" in kinds and "modify_type" in kinds
    finally:
        db.dispose()


def test_every_revision_downgrades_and_upgrades_again(tmp_path):
    db = open_database(tmp_path / "updown.db")
    try:
        with db.engine.begin() as conn:
            command.downgrade(db._alembic_config(conn), "base")
        assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}
        assert db.schema_revision() is None
        db.upgrade()
        assert db.schema_revision() == db.head_revision()
        assert _diff(db) == []
    finally:
        db.dispose()


def test_revisions_form_one_line_numbered_in_order(tmp_path):
    db = open_database(tmp_path / "x.db", migrate=False)
    try:
        script = ScriptDirectory.from_config(db._alembic_config())
        assert len(script.get_heads()) == 1
        revs = [r.revision for r in script.walk_revisions("base", "heads")][::-1]
        assert revs == [f"{i:04d}" for i in range(1, len(revs) + 1)]
    finally:
        db.dispose()


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("this is not SQLite\n" * 10)
    with pytest.raises(UserInputError, match="not a usable database"):
        open_database(bad)


def test_a_newer_schema_than_the_code_knows_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    open_database(path).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(UserInputError, match="newer than this CineStudio"):
        open_database(path)


def test_the_migrations_render_for_postgresql(tmp_path):
    """The schema must be able to move to PostgreSQL: the DDL renders for it (offline, no
    server) with native timestamps with time zone and no SQLite-only syntax."""
    import io

    from alembic.config import Config

    from cinestudio.store.db import migrations_dir

    buffer = io.StringIO()
    cfg = Config(output_buffer=buffer)
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", "postgresql://user@localhost/cinestudio")
    command.upgrade(cfg, "head", sql=True)
    ddl = buffer.getvalue()
    assert "CREATE TABLE clips" in ddl and "TIMESTAMP WITH TIME ZONE" in ddl
    for sqlite_only in ("AUTOINCREMENT", "PRAGMA", "WITHOUT ROWID", "DATETIME"):
        assert sqlite_only not in ddl
