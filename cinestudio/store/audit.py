"""The audit log: who changed what, when, and the state before and after (JSON).

Every repository method that changes labels, reviews, stages, sources or settings calls
`write_audit` in the same session, so the change and its audit row commit or vanish together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cinestudio.store import models as m
from cinestudio.store._base import Repository, audit_record, require_text
from cinestudio.store.records import AuditRecord


def write_audit(session: Session, actor: str, entity_type: str, entity_id: Any, action: str,
                before: Any = None, after: Any = None) -> m.AuditEntry:
    entry = m.AuditEntry(actor=require_text(actor, "actor"), entity_type=entity_type,
                         entity_id=str(entity_id), action=action, before=before, after=after)
    session.add(entry)
    return entry


class AuditRepository(Repository):
    def record(self, actor: str, entity_type: str, entity_id: Any, action: str,
               before: Any = None, after: Any = None) -> AuditRecord:
        """Append an entry for a change the store does not make itself (e.g. an export)."""
        with self._write() as s:
            entry = write_audit(s, actor, entity_type, entity_id, action, before, after)
            s.flush()
            return audit_record(entry)

    def find(self, *, entity_type: str | None = None, entity_id: Any = None,
             actor: str | None = None, action: str | None = None, since: datetime | None = None,
             limit: int | None = None, offset: int = 0,
             newest_first: bool = False) -> list[AuditRecord]:
        query = select(m.AuditEntry)
        if entity_type is not None:
            query = query.where(m.AuditEntry.entity_type == entity_type)
        if entity_id is not None:
            query = query.where(m.AuditEntry.entity_id == str(entity_id))
        if actor is not None:
            query = query.where(m.AuditEntry.actor == actor)
        if action is not None:
            query = query.where(m.AuditEntry.action == action)
        if since is not None:
            query = query.where(m.AuditEntry.at >= since)
        order = m.AuditEntry.id.desc() if newest_first else m.AuditEntry.id
        query = query.order_by(order).offset(offset).limit(limit)
        with self._read() as s:
            return [audit_record(a) for a in s.scalars(query)]

    def count(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0
