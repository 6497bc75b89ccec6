"""Shared plumbing of the repositories: session scoping, not-found errors, ORM -> record."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from cinestudio.errors import UserInputError
from cinestudio.store import models as m
from cinestudio.store.records import (
    AuditRecord,
    ClipRecord,
    JobRecord,
    LabelRecord,
    PrelabelRecord,
    ReviewRecord,
    SourceRecord,
)

if TYPE_CHECKING:
    from cinestudio.store.db import Database


class NotFoundError(UserInputError):
    """An id or key that names nothing in the workspace (e.g. ``clip 12: no such clip``)."""


class Repository:
    """Base of the repositories: each public method is one transaction of its own, unless the
    repository is bound to a session (`WorkspaceStore.transaction()`), where all calls share it."""

    def __init__(self, db: Database, session: Session | None = None):
        self._db = db
        self._session = session

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        if self._session is not None:
            yield self._session
            self._session.flush()
        else:
            with self._db.session() as session:
                yield session

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        if self._session is not None:
            yield self._session
        else:
            with self._db.read_session() as session:
                yield session


def get_or_404(session: Session, model: type[Any], ident: Any, what: str, *,
               lock: bool = False) -> Any:
    """The row, or `NotFoundError`. `lock` (in write paths) reads it ``FOR UPDATE`` where the
    backend has row locks (PostgreSQL); on SQLite the whole write transaction is serialised
    already (BEGIN IMMEDIATE) and the clause is left out."""
    obj = session.get(model, ident, with_for_update=lock or None)
    if obj is None:
        raise NotFoundError(f"{what} {ident}", f"no such {what} in this workspace")
    return obj


def require_text(value: str | None, subject: str) -> str:
    if value is None or not str(value).strip():
        raise UserInputError(subject, "must not be empty")
    return str(value).strip()


# -- ORM -> record ---------------------------------------------------------------------------


def source_record(s: m.Source) -> SourceRecord:
    return SourceRecord(
        id=s.id, path=s.path, display_name=s.display_name, content_sha256=s.content_sha256,
        size_bytes=s.size_bytes, fingerprint_kind=s.fingerprint_kind, fingerprint=s.fingerprint,
        frames=s.frames, fps=s.fps, width=s.width, height=s.height, codec=s.codec,
        duration_s=s.duration_s, probe=s.probe, imported_at=s.imported_at)


def label_record(lab: m.Label) -> LabelRecord:
    return LabelRecord(
        id=lab.id, clip_id=lab.clip_id, annotator=lab.annotator, framing=lab.framing,
        angle=lab.angle, movements=tuple(lab.movements), caption=lab.caption,
        created_at=lab.created_at, updated_at=lab.updated_at)


def prelabel_record(p: m.Prelabel) -> PrelabelRecord:
    return PrelabelRecord(
        id=p.id, clip_id=p.clip_id, axis=p.axis, key=p.key, confidence=p.confidence,
        origin=p.origin, model_id=p.model_id, rank=p.rank, details=p.details,
        created_at=p.created_at)


def review_record(r: m.Review) -> ReviewRecord:
    return ReviewRecord(
        id=r.id, clip_id=r.clip_id, reviewer=r.reviewer, decision=r.decision, reason=r.reason,
        framing=r.framing, angle=r.angle, movements=tuple(r.movements), caption=r.caption,
        label_id=r.label_id, created_at=r.created_at)


def clip_record(c: m.Clip, details: bool = False) -> ClipRecord:
    base = dict(id=c.id, source_id=c.source_id, start_frame=c.start_frame,
                end_frame=c.end_frame, thumbnail_path=c.thumbnail_path, stage=c.stage,
                created_at=c.created_at, updated_at=c.updated_at)
    if not details:
        return ClipRecord(**base)
    return ClipRecord(
        **base,
        labels=tuple(label_record(lab) for lab in c.labels),
        prelabels=tuple(prelabel_record(p) for p in c.prelabels),
        review=review_record(c.reviews[-1]) if c.reviews else None,
        details_loaded=True)


def audit_record(a: m.AuditEntry) -> AuditRecord:
    return AuditRecord(id=a.id, at=a.at, actor=a.actor, entity_type=a.entity_type,
                       entity_id=a.entity_id, action=a.action, before=a.before, after=a.after)


def job_record(j: m.Job) -> JobRecord:
    return JobRecord(
        id=j.id, kind=j.kind, state=j.state, config=j.config, run_dir=j.run_dir,
        device=j.device, pid=j.pid, host=j.host, progress_done=j.progress_done,
        progress_total=j.progress_total, message=j.message, error=j.error, result=j.result,
        checkpoint_step=j.checkpoint_step, cancel_requested=j.cancel_requested,
        attempts=j.attempts, created_at=j.created_at, started_at=j.started_at,
        finished_at=j.finished_at, heartbeat_at=j.heartbeat_at, updated_at=j.updated_at)
