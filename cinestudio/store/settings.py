"""Workspace settings: key -> JSON value (taxonomy scheme, active CameraCLIP run, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cinestudio.store import models as m
from cinestudio.store._base import Repository, require_text
from cinestudio.store.audit import write_audit

# Well-known keys (others are free to add theirs, namespaced with a dot).
TAXONOMY_SCHEME = "taxonomy.scheme"          # scheme name or file the workspace labels with
CAMERACLIP_RUN = "cameraclip.active_run"     # run used for pre-labelling (run dir or job id)
MIN_CLIP_FRAMES = "import.min_clip_frames"   # shots shorter than this are skipped on import


class SettingsRepository(Repository):
    def get(self, key: str, default: Any = None) -> Any:
        with self._read() as s:
            row = s.get(m.Setting, key)
            return default if row is None else row.value

    def all(self) -> dict[str, Any]:
        with self._read() as s:
            return {row.key: row.value for row in s.scalars(select(m.Setting).order_by(m.Setting.key))}

    def set(self, key: str, value: Any, *, actor: str = "system") -> None:
        """Store a JSON-serialisable value; audited when it changes."""
        key = require_text(key, "setting key")
        with self._write() as s:
            row = s.get(m.Setting, key, with_for_update=True)
            if row is None:
                s.add(m.Setting(key=key, value=value))
                write_audit(s, actor, "setting", key, "create", None, {"value": value})
            elif row.value != value:
                write_audit(s, actor, "setting", key, "update", {"value": row.value}, {"value": value})
                row.value = value

    def delete(self, key: str, *, actor: str = "system") -> bool:
        with self._write() as s:
            row = s.get(m.Setting, key)
            if row is None:
                return False
            write_audit(s, actor, "setting", key, "delete", {"value": row.value}, None)
            s.delete(row)
            return True
