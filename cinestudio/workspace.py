"""A workspace: one folder holding a project's database and media cache.

Layout::

    WORKSPACE/
      cinestudio.db      SQLite database (WAL), see cinestudio.store
      media/             thumbnails and other derived media
      runs/              training and render runs (one folder each)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cinestudio.errors import UserInputError

APP_NAME = "CineStudio"
DB_FILENAME = "cinestudio.db"


def default_workspace_dir() -> Path:
    """The per-user default workspace (e.g. ~/.local/share/CineStudio/default)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "default"


@dataclass(frozen=True)
class WorkspacePaths:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def thumbs_dir(self) -> Path:
        return self.media_dir / "thumbs"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def ensure(self) -> WorkspacePaths:
        if self.root.exists() and not self.root.is_dir():
            raise UserInputError(self.root, "workspace path exists and is not a folder")
        for folder in (self.root, self.media_dir, self.thumbs_dir, self.runs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_workspace(path: str | os.PathLike[str] | None) -> WorkspacePaths:
    """The workspace at `path`, or the per-user default; the folders are created if missing."""
    root = Path(path).expanduser() if path else default_workspace_dir()
    return WorkspacePaths(root.resolve()).ensure()
