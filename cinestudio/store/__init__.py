"""The workspace database: schema, migrations, and repositories that hide sessions.

    from cinestudio.store import open_workspace
    with open_workspace(path) as store:          # creates folders + database, migrates
        src, created = store.sources.add(path=..., content_sha256=..., size_bytes=...)
        clips = store.clips.add_many(src.id, [(0, 48), (48, 120)])
        store.labels.set(clips[0].id, "ana", framing="close_up", angle="eye_level",
                         movements=["pan_left", "zoom_in"])
        store.clips.find(stage="annotated", limit=50)

Repositories return frozen dataclasses (`cinestudio.store.records`), never ORM objects, so
results can cross threads and processes. Every change to labels, reviews and stages writes an
audit row in the same transaction. See `db.py` for SQLite concurrency and migrations.
"""

from __future__ import annotations

import os

from cinestudio.store._base import NotFoundError
from cinestudio.store.db import Database, open_database
from cinestudio.store.records import (
    AuditRecord,
    ClipFilter,
    ClipRecord,
    ClipSpec,
    JobRecord,
    LabelRecord,
    PrelabelRecord,
    PrelabelSpec,
    ReviewRecord,
    SourceRecord,
)
from cinestudio.store.workspace_store import Repositories, WorkspaceStore
from cinestudio.workspace import WorkspacePaths, resolve_workspace


def open_workspace(path: str | os.PathLike[str] | WorkspacePaths | None = None, *,
                   migrate: bool = True) -> WorkspaceStore:
    """Open the workspace at `path` (default: the per-user one), creating it if needed."""
    paths = path if isinstance(path, WorkspacePaths) else resolve_workspace(path)
    if isinstance(path, WorkspacePaths):
        paths.ensure()
    return WorkspaceStore(paths, open_database(paths.db_path, migrate=migrate))


__all__ = [
    "AuditRecord", "ClipFilter", "ClipRecord", "ClipSpec", "Database", "JobRecord",
    "LabelRecord", "NotFoundError", "PrelabelRecord", "PrelabelSpec", "Repositories",
    "ReviewRecord", "SourceRecord", "WorkspaceStore", "open_database", "open_workspace",
]
