"""`WorkspaceStore`: a workspace's folders and database behind one object of repositories."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from cinestudio.store.annotations import LabelRepository, PrelabelRepository, ReviewRepository
from cinestudio.store.audit import AuditRepository
from cinestudio.store.clips import ClipRepository
from cinestudio.store.db import Database
from cinestudio.store.jobs import JobRepository
from cinestudio.store.settings import SettingsRepository
from cinestudio.store.sources import SourceRepository
from cinestudio.store.storyboards import StoryboardRepository
from cinestudio.workspace import WorkspacePaths


class Repositories:
    """All repositories, either each call its own transaction or all bound to one session."""

    def __init__(self, db: Database, session: Session | None = None):
        self.db = db
        self.sources = SourceRepository(db, session)
        self.clips = ClipRepository(db, session)
        self.labels = LabelRepository(db, session)
        self.prelabels = PrelabelRepository(db, session)
        self.reviews = ReviewRepository(db, session)
        self.audit = AuditRepository(db, session)
        self.jobs = JobRepository(db, session)
        self.settings = SettingsRepository(db, session)
        self.storyboards = StoryboardRepository(db, session)


class WorkspaceStore(Repositories):
    """A workspace opened for use: ``paths`` (folders), ``db``, and the repositories.

    Safe to share between threads (every call checks a connection out of the pool and returns
    immutable records). Use `transaction()` when several changes must commit together.
    """

    def __init__(self, paths: WorkspacePaths, db: Database):
        super().__init__(db)
        self.paths = paths

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Repositories]:
        """One write transaction for several repository calls: all commit, or none does.

        Example: a source, its clips and their pre-labels from one imported file::

            with store.transaction() as tx:
                src, created = tx.sources.add(...)
                clips = tx.clips.add_many(src.id, shots)
        """
        with self.db.session() as session:
            yield Repositories(self.db, session)

    def info(self) -> dict[str, Any]:
        """Where the workspace is, its schema revision, and how much it holds."""
        clips = self.clips.count_by_stage()
        return {
            "workspace": str(self.paths.root),
            "database": str(self.paths.db_path),
            "schema_revision": self.db.schema_revision(),
            "schema_head": self.db.head_revision(),
            "counts": {
                "sources": self.sources.count(),
                "clips": {**clips, "total": sum(clips.values())},
                "labels": self.labels.count(),
                "prelabels": self.prelabels.count(),
                "reviews": self.reviews.count(),
                "jobs": self.jobs.count_by_state(),
            },
            "settings": self.settings.all(),
        }

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> WorkspaceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WorkspaceStore({str(self.paths.root)!r})"
