"""initial schema: sources, clips, labels, prelabels, reviews, audit log, jobs, settings

Revision ID: 0001
Revises:
Create Date: 2025-11-25

Written by hand and checked against the models (tests/store/test_store_migrations.py compares
the migrated database with cinestudio.store.models and must find no difference).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = ("collected", "annotated", "verified", "rejected")
DECISIONS = ("accept", "reject", "fix")
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint_kind", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=512), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=True),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("codec", sa.String(length=64), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("probe", sa.JSON(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("content_sha256", name=op.f("uq_sources_content_sha256")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_sources_size")),
    )
    op.create_index(op.f("ix_sources_fingerprint_kind_fingerprint"), "sources",
                    ["fingerprint_kind", "fingerprint"])

    op.create_table(
        "clips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_frame", sa.Integer(), nullable=False),
        sa.Column("end_frame", sa.Integer(), nullable=False),
        sa.Column("thumbnail_path", sa.Text(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clips")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE",
                                name=op.f("fk_clips_source_id_sources")),
        sa.UniqueConstraint("source_id", "start_frame", "end_frame",
                            name=op.f("uq_clips_source_id_start_frame_end_frame")),
        sa.CheckConstraint("start_frame >= 0 AND end_frame > start_frame",
                           name=op.f("ck_clips_frame_range")),
        sa.CheckConstraint(_in("stage", STAGES), name=op.f("ck_clips_stage")),
    )
    op.create_index(op.f("ix_clips_stage"), "clips", ["stage"])

    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("annotator", sa.String(length=128), nullable=False),
        sa.Column("framing", sa.String(length=64), nullable=True),
        sa.Column("angle", sa.String(length=64), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE",
                                name=op.f("fk_labels_clip_id_clips")),
        sa.UniqueConstraint("clip_id", "annotator", name=op.f("uq_labels_clip_id_annotator")),
    )
    op.create_index(op.f("ix_labels_annotator"), "labels", ["annotator"])
    op.create_index(op.f("ix_labels_framing"), "labels", ["framing"])
    op.create_index(op.f("ix_labels_angle"), "labels", ["angle"])

    op.create_table(
        "label_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("movement", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_movements")),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], ondelete="CASCADE",
                                name=op.f("fk_label_movements_label_id_labels")),
        sa.UniqueConstraint("label_id", "position",
                            name=op.f("uq_label_movements_label_id_position")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_label_movements_position")),
    )
    op.create_index(op.f("ix_label_movements_movement"), "label_movements", ["movement"])

    op.create_table(
        "prelabels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("axis", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=512), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prelabels")),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE",
                                name=op.f("fk_prelabels_clip_id_clips")),
        sa.UniqueConstraint("clip_id", "origin", "axis", "key",
                            name=op.f("uq_prelabels_clip_id_origin_axis_key")),
        sa.CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
                           name=op.f("ck_prelabels_confidence")),
    )
    op.create_index(op.f("ix_prelabels_axis_key"), "prelabels", ["axis", "key"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("framing", sa.String(length=64), nullable=True),
        sa.Column("angle", sa.String(length=64), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("label_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE",
                                name=op.f("fk_reviews_clip_id_clips")),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], ondelete="SET NULL",
                                name=op.f("fk_reviews_label_id_labels")),
        sa.CheckConstraint(_in("decision", DECISIONS), name=op.f("ck_reviews_decision")),
    )
    op.create_index(op.f("ix_reviews_clip_id"), "reviews", ["clip_id"])
    op.create_index(op.f("ix_reviews_label_id"), "reviews", ["label_id"])

    op.create_table(
        "review_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("movement", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_movements")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], ondelete="CASCADE",
                                name=op.f("fk_review_movements_review_id_reviews")),
        sa.UniqueConstraint("review_id", "position",
                            name=op.f("uq_review_movements_review_id_position")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_review_movements_position")),
    )
    op.create_index(op.f("ix_review_movements_movement"), "review_movements", ["movement"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=512), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_entity_type_entity_id"), "audit_log",
                    ["entity_type", "entity_id"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("run_dir", sa.Text(), nullable=True),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=512), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("checkpoint_step", sa.Integer(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.CheckConstraint(_in("state", JOB_STATES), name=op.f("ck_jobs_state")),
    )
    op.create_index(op.f("ix_jobs_state"), "jobs", ["state"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_index(op.f("ix_jobs_state"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_audit_log_entity_type_entity_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_review_movements_movement"), table_name="review_movements")
    op.drop_table("review_movements")
    op.drop_index(op.f("ix_reviews_label_id"), table_name="reviews")
    op.drop_index(op.f("ix_reviews_clip_id"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_prelabels_axis_key"), table_name="prelabels")
    op.drop_table("prelabels")
    op.drop_index(op.f("ix_label_movements_movement"), table_name="label_movements")
    op.drop_table("label_movements")
    op.drop_index(op.f("ix_labels_angle"), table_name="labels")
    op.drop_index(op.f("ix_labels_framing"), table_name="labels")
    op.drop_index(op.f("ix_labels_annotator"), table_name="labels")
    op.drop_table("labels")
    op.drop_index(op.f("ix_clips_stage"), table_name="clips")
    op.drop_table("clips")
    op.drop_index(op.f("ix_sources_fingerprint_kind_fingerprint"), table_name="sources")
    op.drop_table("sources")
