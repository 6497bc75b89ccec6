"""The workspace schema: SQLAlchemy 2 typed declarative models.

Portable on purpose (the store is meant to move to PostgreSQL): integer surrogate keys, plain
strings checked by named CHECK constraints instead of native enums, the generic ``JSON`` type,
timezone-aware UTC timestamps set by Python (no server-side defaults), ``ON DELETE`` rules
declared in foreign keys, and a naming convention so every constraint has a stable name that
Alembic can alter later on any backend.

Tables::

    sources            a video file, identified by the sha256 of its bytes (+ optional fingerprint)
    clips              a shot: frame range [start_frame, end_frame) of a source, and its stage
    labels             one annotator's label of a clip (unique per clip and annotator)
    label_movements    the ordered movements of a label (position 0, 1, ...)
    prelabels          machine suggestions (motion estimator, CameraCLIP), never human labels
    reviews            a reviewer's decision on a clip and the verified label it fixes
    review_movements   the ordered movements of a review's verified label
    audit_log          who changed what, when, with the state before and after (JSON)
    jobs               background jobs (training, rendering) and their progress
    settings           workspace settings: key -> JSON value
    storyboards        a storyboard: name, frame rate, frame size, scheme, render settings
    storyboard_shots   its shots in order (position 0, 1, ...), each with a stable uid
    storyboard_renders render history: one row per render of a shot (by uid), its cached clip

Paths written by the application into the database (thumbnails, run folders) should be relative
to the workspace root with ``/`` separators, so a workspace folder can be moved or copied; a
source's ``path`` is where the user's file was found at import (absolute, informative only: the
source is identified by its content hash).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

STAGES: tuple[str, ...] = ("collected", "annotated", "verified", "rejected")
DECISIONS: tuple[str, ...] = ("accept", "reject", "fix")
JOB_STATES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
DURATION_UNITS: tuple[str, ...] = ("frames", "seconds")
RENDER_BACKENDS: tuple[str, ...] = ("previz", "diffusion")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths are generous and only matter on backends that enforce them (PostgreSQL does).
KEY_LEN = 64        # taxonomy class keys, axis names, stages, states, origins
NAME_LEN = 128      # annotator / reviewer / actor names
LONG_LEN = 512      # display names, model ids, fingerprints


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    Stored as ``TIMESTAMP WITH TIME ZONE`` where the backend has it (PostgreSQL) and as naive UTC
    text on SQLite, which has no time zones. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(timezone.utc)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(String(LONG_LEN))
    # Exact duplicate detection: sha256 of the file's bytes, hex.
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # Near-duplicate detection (re-encoded copies): e.g. perceptual hashes of decoded frames.
    # `fingerprint_kind` names the algorithm and its version so fingerprints stay comparable.
    fingerprint_kind: Mapped[str | None] = mapped_column(String(KEY_LEN))
    fingerprint: Mapped[str | None] = mapped_column(String(LONG_LEN))
    frames: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    codec: Mapped[str | None] = mapped_column(String(KEY_LEN))
    duration_s: Mapped[float | None] = mapped_column(Float)
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # further probe facts, free form
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clips: Mapped[list[Clip]] = relationship(back_populates="source", passive_deletes=True)

    __table_args__ = (
        Index(None, "fingerprint_kind", "fingerprint"),
        CheckConstraint("size_bytes >= 0", name="size"),
    )


class Clip(Base):
    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    start_frame: Mapped[int] = mapped_column(Integer)
    end_frame: Mapped[int] = mapped_column(Integer)  # exclusive
    thumbnail_path: Mapped[str | None] = mapped_column(Text)  # relative to the workspace root
    stage: Mapped[str] = mapped_column(String(16), default="collected", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    source: Mapped[Source] = relationship(back_populates="clips")
    labels: Mapped[list[Label]] = relationship(
        back_populates="clip", order_by="Label.id", passive_deletes=True)
    prelabels: Mapped[list[Prelabel]] = relationship(
        back_populates="clip", order_by=lambda: (Prelabel.axis, Prelabel.rank, Prelabel.id),
        passive_deletes=True)
    reviews: Mapped[list[Review]] = relationship(
        back_populates="clip", order_by="Review.id", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("source_id", "start_frame", "end_frame"),
        CheckConstraint("start_frame >= 0 AND end_frame > start_frame", name="frame_range"),
        CheckConstraint(_in("stage", STAGES), name="stage"),
    )


class Label(Base):
    """One annotator's label of one clip. Axes may be empty while a label is being made."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    annotator: Mapped[str] = mapped_column(String(NAME_LEN))
    framing: Mapped[str | None] = mapped_column(String(KEY_LEN), index=True)
    angle: Mapped[str | None] = mapped_column(String(KEY_LEN), index=True)
    caption: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    clip: Mapped[Clip] = relationship(back_populates="labels")
    movement_rows: Mapped[list[LabelMovement]] = relationship(
        order_by="LabelMovement.position", collection_class=ordering_list("position"),
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("clip_id", "annotator"),
        Index(None, "annotator"),
    )

    @property
    def movements(self) -> list[str]:
        return [row.movement for row in self.movement_rows]


class LabelMovement(Base):
    __tablename__ = "label_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    movement: Mapped[str] = mapped_column(String(KEY_LEN), index=True)

    __table_args__ = (
        UniqueConstraint("label_id", "position"),
        CheckConstraint("position >= 0", name="position"),
    )


class Prelabel(Base):
    """A machine suggestion for one axis of a clip: kept apart from human labels on purpose."""

    __tablename__ = "prelabels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"))
    axis: Mapped[str] = mapped_column(String(KEY_LEN))
    key: Mapped[str] = mapped_column(String(KEY_LEN))
    confidence: Mapped[float | None] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(KEY_LEN))        # "motion", "cameraclip", ...
    model_id: Mapped[str | None] = mapped_column(String(LONG_LEN))  # run id / checkpoint / version
    rank: Mapped[int] = mapped_column(Integer, default=0)       # order among one origin's suggestions
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. magnitude, segment
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clip: Mapped[Clip] = relationship(back_populates="prelabels")

    __table_args__ = (
        UniqueConstraint("clip_id", "origin", "axis", "key"),
        Index(None, "axis", "key"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
                        name="confidence"),
    )


class Review(Base):
    """A reviewer's decision; for accept/fix it carries the verified label that export uses."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(NAME_LEN))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    framing: Mapped[str | None] = mapped_column(String(KEY_LEN))
    angle: Mapped[str | None] = mapped_column(String(KEY_LEN))
    caption: Mapped[str | None] = mapped_column(Text)
    # The annotator's label the decision was based on, if any.
    label_id: Mapped[int | None] = mapped_column(
        ForeignKey("labels.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clip: Mapped[Clip] = relationship(back_populates="reviews")
    movement_rows: Mapped[list[ReviewMovement]] = relationship(
        order_by="ReviewMovement.position", collection_class=ordering_list("position"),
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )

    @property
    def movements(self) -> list[str]:
        return [row.movement for row in self.movement_rows]


class ReviewMovement(Base):
    __tablename__ = "review_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    movement: Mapped[str] = mapped_column(String(KEY_LEN), index=True)

    __table_args__ = (
        UniqueConstraint("review_id", "position"),
        CheckConstraint("position >= 0", name="position"),
    )


class AuditEntry(Base):
    """Append-only history. No foreign keys: entries outlive what they describe."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(NAME_LEN))
    entity_type: Mapped[str] = mapped_column(String(KEY_LEN))  # "clip", "label", "review", ...
    entity_id: Mapped[str] = mapped_column(String(LONG_LEN))   # str: ids and setting keys alike
    action: Mapped[str] = mapped_column(String(KEY_LEN))       # "create", "update", "delete", ...
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)

    __table_args__ = (
        Index(None, "entity_type", "entity_id"),
    )


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KEY_LEN))        # "clip-train", "lora-train", "render"
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_dir: Mapped[str | None] = mapped_column(Text)          # relative to the workspace root
    device: Mapped[str] = mapped_column(String(KEY_LEN), default="auto")  # cpu | cuda | auto
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(LONG_LEN))  # where pid lives
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checkpoint_step: Mapped[int | None] = mapped_column(Integer)  # last step saved to the run dir
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)   # times the job was started
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(_in("state", JOB_STATES), name="state"),
    )


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    value: Mapped[Any | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Storyboard(Base):
    """A storyboard (its shots in `storyboard_shots`, their renders in `storyboard_renders`)."""

    __tablename__ = "storyboards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(LONG_LEN), unique=True)
    fps: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    scheme: Mapped[str] = mapped_column(String(LONG_LEN))      # taxonomy scheme name or file
    previz: Mapped[dict[str, Any] | None] = mapped_column(JSON)      # previz settings
    diffusion: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # diffusion settings
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shots: Mapped[list[StoryboardShot]] = relationship(
        order_by="StoryboardShot.position", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint("fps > 0", name="fps"),
        CheckConstraint("width > 0 AND height > 0", name="size"),
    )


class StoryboardShot(Base):
    __tablename__ = "storyboard_shots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storyboard_id: Mapped[int] = mapped_column(ForeignKey("storyboards.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(KEY_LEN))           # stable across edits and files
    title: Mapped[str] = mapped_column(String(LONG_LEN), default="")
    prompt: Mapped[str] = mapped_column(Text, default="")
    framing: Mapped[str] = mapped_column(String(KEY_LEN))
    angle: Mapped[str] = mapped_column(String(KEY_LEN))
    movements: Mapped[list[str]] = mapped_column(JSON)           # in sequence
    duration: Mapped[float] = mapped_column(Float)
    duration_unit: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    reference_image: Mapped[str | None] = mapped_column(Text)   # relative to the workspace root
    loras: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {lora name: weight}
    notes: Mapped[str | None] = mapped_column(Text)
    # The render shown and exported for this shot (a row of storyboard_renders), if any.
    active_render_id: Mapped[int | None] = mapped_column(
        ForeignKey("storyboard_renders.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("storyboard_id", "position"),
        UniqueConstraint("storyboard_id", "uid"),
        CheckConstraint("position >= 0", name="position"),
        CheckConstraint("duration >= 0", name="duration"),
        CheckConstraint(_in("duration_unit", DURATION_UNITS), name="duration_unit"),
    )


class StoryboardRender(Base):
    """One render of a shot (found by the shot's uid, so history survives shots being re-saved)."""

    __tablename__ = "storyboard_renders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storyboard_id: Mapped[int] = mapped_column(ForeignKey("storyboards.id", ondelete="CASCADE"))
    shot_uid: Mapped[str] = mapped_column(String(KEY_LEN))
    backend: Mapped[str] = mapped_column(String(KEY_LEN))
    content_hash: Mapped[str] = mapped_column(String(64))
    clip_path: Mapped[str] = mapped_column(Text)                  # relative to the workspace root
    thumbnail_path: Mapped[str | None] = mapped_column(Text)
    frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    kept: Mapped[bool] = mapped_column(Boolean, default=False)    # kept renders are never pruned
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # the shot as it was rendered
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # seed, LoRA schedule, scores...
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index(None, "storyboard_id", "shot_uid"),
        Index(None, "content_hash"),
        CheckConstraint(_in("backend", RENDER_BACKENDS), name="backend"),
        CheckConstraint("frames > 0", name="frames"),
    )


metadata = Base.metadata

__all__ = [
    "AuditEntry", "Base", "Clip", "DECISIONS", "JOB_STATES", "Job", "Label", "LabelMovement",
    "Prelabel", "RENDER_BACKENDS", "Review", "ReviewMovement", "STAGES", "Setting", "Source",
    "Storyboard", "StoryboardRender", "StoryboardShot", "UTCDateTime", "metadata", "utcnow",
]
