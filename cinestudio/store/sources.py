"""Sources: the video files a workspace imported, identified by content, not by name."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store._base import Repository, get_or_404, source_record
from cinestudio.store.audit import write_audit
from cinestudio.store.records import SourceRecord

_SHA256_HEX = frozenset("0123456789abcdef")


def _check_sha256(value: str) -> str:
    value = value.lower()
    if len(value) != 64 or not set(value) <= _SHA256_HEX:
        raise UserInputError(value, "not a sha256 hex digest")
    return value


def _source_summary(src: m.Source) -> dict[str, Any]:
    return {"path": src.path, "display_name": src.display_name,
            "content_sha256": src.content_sha256, "size_bytes": src.size_bytes}


class SourceRepository(Repository):
    def add(self, *, path: str | os.PathLike[str], content_sha256: str, size_bytes: int,
            display_name: str | None = None, frames: int | None = None, fps: float | None = None,
            width: int | None = None, height: int | None = None, codec: str | None = None,
            duration_s: float | None = None, fingerprint_kind: str | None = None,
            fingerprint: str | None = None, probe: dict[str, Any] | None = None,
            actor: str = "import") -> tuple[SourceRecord, bool]:
        """Add a source unless one with the same content is in: ``(record, created)``.

        Idempotent and safe against a concurrent importer of the same file: the content hash is
        unique, so the loser of a race gets the winner's row back with ``created=False``.
        """
        sha = _check_sha256(content_sha256)
        path_str = os.fspath(path)
        with self._write() as s:
            existing = s.scalar(select(m.Source).where(m.Source.content_sha256 == sha))
            if existing is not None:
                return source_record(existing), False
            src = m.Source(
                path=path_str, display_name=display_name or os.path.basename(path_str) or path_str,
                content_sha256=sha, size_bytes=size_bytes, frames=frames, fps=fps, width=width,
                height=height, codec=codec, duration_s=duration_s,
                fingerprint_kind=fingerprint_kind, fingerprint=fingerprint, probe=probe)
            try:
                with s.begin_nested():  # SAVEPOINT: a lost race must not spoil the transaction
                    s.add(src)
                    s.flush()
            except IntegrityError:
                existing = s.scalar(select(m.Source).where(m.Source.content_sha256 == sha))
                if existing is None:
                    raise
                return source_record(existing), False
            write_audit(s, actor, "source", src.id, "create", None, _source_summary(src))
            s.flush()
            return source_record(src), True

    def get(self, source_id: int) -> SourceRecord:
        with self._read() as s:
            return source_record(get_or_404(s, m.Source, source_id, "source"))

    def find_by_hash(self, content_sha256: str) -> SourceRecord | None:
        with self._read() as s:
            src = s.scalar(select(m.Source).where(m.Source.content_sha256 == content_sha256.lower()))
            return None if src is None else source_record(src)

    def find_by_fingerprint(self, kind: str, fingerprint: str) -> list[SourceRecord]:
        """Sources whose fingerprint of this kind is exactly `fingerprint`."""
        with self._read() as s:
            rows = s.scalars(select(m.Source).where(m.Source.fingerprint_kind == kind,
                                                    m.Source.fingerprint == fingerprint)
                             .order_by(m.Source.id))
            return [source_record(r) for r in rows]

    def fingerprints(self, kind: str) -> list[tuple[int, str]]:
        """``(source id, fingerprint)`` of every source fingerprinted with `kind`, for fuzzy
        matching (e.g. Hamming distance between perceptual hashes) done by the caller."""
        with self._read() as s:
            rows = s.execute(select(m.Source.id, m.Source.fingerprint)
                             .where(m.Source.fingerprint_kind == kind,
                                    m.Source.fingerprint.is_not(None))
                             .order_by(m.Source.id))
            return [(sid, fp) for sid, fp in rows]

    def set_fingerprint(self, source_id: int, kind: str, fingerprint: str) -> SourceRecord:
        with self._write() as s:
            src = get_or_404(s, m.Source, source_id, "source", lock=True)
            src.fingerprint_kind, src.fingerprint = kind, fingerprint
            s.flush()
            return source_record(src)

    def all(self) -> list[SourceRecord]:
        with self._read() as s:
            return [source_record(r) for r in s.scalars(select(m.Source).order_by(m.Source.id))]

    def count(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(m.Source)) or 0

    def delete(self, source_id: int, *, actor: str) -> None:
        """Remove a source with its clips and their labels, pre-labels and reviews (audited)."""
        with self._write() as s:
            src = get_or_404(s, m.Source, source_id, "source", lock=True)
            summary = _source_summary(src)
            summary["clips"] = _count_clips(s, source_id)
            write_audit(s, actor, "source", source_id, "delete", summary, None)
            s.delete(src)


def _count_clips(s: Session, source_id: int) -> int:
    return s.scalar(select(func.count()).select_from(m.Clip).where(m.Clip.source_id == source_id)) or 0
