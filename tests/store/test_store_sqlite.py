"""SQLite set-up: WAL, foreign keys, busy timeout, write locks taken at BEGIN, odd paths."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cinestudio.errors import UserInputError
from cinestudio.store import db as store_db
from cinestudio.store import open_database, open_workspace
from cinestudio.store import models as m


def _pragma(db, name):
    with db.engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_wal_foreign_keys_and_busy_timeout_are_on(tmp_path):
    db = open_database(tmp_path / "w.db")
    try:
        assert _pragma(db, "journal_mode") == "wal"
        assert _pragma(db, "foreign_keys") == 1
        assert _pragma(db, "busy_timeout") >= 10_000
        # WAL is a property of the file: a plain sqlite3 connection sees it too.
        with sqlite3.connect(tmp_path / "w.db") as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(tmp_path):
    db = open_database(tmp_path / "fk.db")
    try:
        with pytest.raises(IntegrityError):
            with db.session() as s:
                s.add(m.Clip(source_id=12345, start_frame=0, end_frame=10, stage="collected"))
        with db.read_session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(m.Clip)) == 0
    finally:
        db.dispose()


def test_deleting_a_source_cascades_to_its_clips_and_labels(tmp_path):
    with open_workspace(tmp_path / "ws") as store:
        src, _ = store.sources.add(path="a.mp4", content_sha256=hashlib.sha256(b"a").hexdigest(),
                                   size_bytes=1)
        (clip,) = store.clips.add_many(src.id, [(0, 10)])
        store.labels.set(clip.id, "ana", framing="wide", angle="low", movements=["static"])
        store.sources.delete(src.id, actor="ana")
        assert store.clips.count() == 0 and store.labels.count() == 0
        with store.db.read_session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(m.LabelMovement)) == 0
        (entry,) = store.audit.find(entity_type="source", action="delete")
        assert entry.before["clips"] == 1 and entry.after is None


def test_check_constraints_are_enforced(tmp_path):
    db = open_database(tmp_path / "ck.db")
    try:
        with db.session() as s:
            src = m.Source(path="a", display_name="a", content_sha256="0" * 64, size_bytes=1)
            s.add(src)
        for bad in (dict(start_frame=10, end_frame=10, stage="collected"),
                    dict(start_frame=0, end_frame=10, stage="finished")):
            with pytest.raises(IntegrityError):
                with db.session() as s:
                    s.add(m.Clip(source_id=src.id, **bad))
    finally:
        db.dispose()


def test_write_sessions_take_the_write_lock_at_begin_and_others_wait(tmp_path):
    """A second writer blocks on BEGIN IMMEDIATE until the first commits, then succeeds;
    a reader is never blocked meanwhile (WAL)."""
    db = open_database(tmp_path / "lock.db")
    try:
        first_has_lock = threading.Event()
        release = threading.Event()
        order: list[str] = []

        def first():
            with db.session() as s:
                s.execute(sa.text("SELECT 1"))  # BEGIN IMMEDIATE happens here
                first_has_lock.set()
                release.wait(10)
                s.add(m.Setting(key="first", value=1))
                order.append("first")

        def second():
            first_has_lock.wait(10)
            with db.session() as s:
                s.add(m.Setting(key="second", value=2))
            order.append("second")

        t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
        t1.start(), t2.start()
        assert first_has_lock.wait(10)
        with db.read_session() as s:  # readers do not wait for the writer
            assert s.scalar(sa.select(sa.func.count()).select_from(m.Setting)) == 0
        t2.join(0.3)
        assert t2.is_alive(), "second writer should wait for the first"
        release.set()
        t1.join(10), t2.join(10)
        assert order == ["first", "second"]
        with db.read_session() as s:
            assert set(s.scalars(sa.select(m.Setting.key))) == {"first", "second"}
    finally:
        db.dispose()


def _hold_write_lock_on_new_file(path):
    """What a first process holds while it switches a brand-new file to WAL: the write lock on a
    file still in rollback-journal mode (the switch itself is too quick to catch in the act)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    assert holder.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    return holder


def test_opening_a_new_file_waits_while_another_connection_switches_it_to_wal(tmp_path):
    """SQLite fails the WAL switch with "database is locked" at once, busy timeout or not, while
    another connection holds the write lock; the second of two processes opening a brand-new
    workspace at once hit that. Opening must wait for the lock instead."""
    path = tmp_path / "ws" / "cinestudio.db"
    holder = _hold_write_lock_on_new_file(path)
    release = threading.Timer(0.5, holder.rollback)
    start = time.monotonic()
    release.start()
    try:
        db = open_database(path)
    finally:
        release.join()
        holder.close()
    try:
        assert time.monotonic() - start >= 0.4, "it should have waited for the lock"
        assert db.schema_revision() == db.head_revision()
        assert _pragma(db, "journal_mode") == "wal"
    finally:
        db.dispose()


def test_a_write_lock_held_past_the_busy_timeout_is_still_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "stuck.db"
    holder = _hold_write_lock_on_new_file(path)
    try:
        start = time.monotonic()
        with pytest.raises(UserInputError, match=r"not a usable database \(database is locked\)"):
            open_database(path)
        assert 0.15 <= time.monotonic() - start < 5
    finally:
        holder.close()


@pytest.mark.parametrize("name", ["plan séquence 日本", "a#b?c%d", "with 'quote'"])
def test_odd_and_non_ascii_workspace_paths_work(tmp_path, name):
    root = tmp_path / name
    with open_workspace(root) as store:
        store.settings.set("ok", True)
        assert store.paths.db_path == root.resolve() / "cinestudio.db"
        assert store.paths.db_path.is_file()
    with open_workspace(root) as store:
        assert store.settings.get("ok") is True
