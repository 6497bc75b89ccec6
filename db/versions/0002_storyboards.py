"""storyboards: boards, their ordered shots, and the render history of each shot

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-25

Written by hand and checked against the models (tests/store/test_store_migrations.py compares
the migrated database with cinestudio.store.models and must find no difference).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DURATION_UNITS = ("frames", "seconds")
RENDER_BACKENDS = ("previz", "diffusion")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "storyboards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=512), nullable=False),
        sa.Column("previz", sa.JSON(), nullable=True),
        sa.Column("diffusion", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storyboards")),
        sa.UniqueConstraint("name", name=op.f("uq_storyboards_name")),
        sa.CheckConstraint("fps > 0", name=op.f("ck_storyboards_fps")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_storyboards_size")),
    )

    op.create_table(
        "storyboard_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storyboard_id", sa.Integer(), nullable=False),
        sa.Column("shot_uid", sa.String(length=64), nullable=False),
        sa.Column("backend", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("clip_path", sa.Text(), nullable=False),
        sa.Column("thumbnail_path", sa.Text(), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storyboard_renders")),
        sa.ForeignKeyConstraint(["storyboard_id"], ["storyboards.id"], ondelete="CASCADE",
                                name=op.f("fk_storyboard_renders_storyboard_id_storyboards")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="SET NULL",
                                name=op.f("fk_storyboard_renders_job_id_jobs")),
        sa.CheckConstraint(_in("backend", RENDER_BACKENDS), name=op.f("ck_storyboard_renders_backend")),
        sa.CheckConstraint("frames > 0", name=op.f("ck_storyboard_renders_frames")),
    )
    op.create_index(op.f("ix_storyboard_renders_storyboard_id_shot_uid"), "storyboard_renders",
                    ["storyboard_id", "shot_uid"])
    op.create_index(op.f("ix_storyboard_renders_content_hash"), "storyboard_renders", ["content_hash"])

    op.create_table(
        "storyboard_shots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storyboard_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("framing", sa.String(length=64), nullable=False),
        sa.Column("angle", sa.String(length=64), nullable=False),
        sa.Column("movements", sa.JSON(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("duration_unit", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("reference_image", sa.Text(), nullable=True),
        sa.Column("loras", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("active_render_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storyboard_shots")),
        sa.ForeignKeyConstraint(["storyboard_id"], ["storyboards.id"], ondelete="CASCADE",
                                name=op.f("fk_storyboard_shots_storyboard_id_storyboards")),
        sa.ForeignKeyConstraint(["active_render_id"], ["storyboard_renders.id"], ondelete="SET NULL",
                                name=op.f("fk_storyboard_shots_active_render_id_storyboard_renders")),
        sa.UniqueConstraint("storyboard_id", "position",
                            name=op.f("uq_storyboard_shots_storyboard_id_position")),
        sa.UniqueConstraint("storyboard_id", "uid", name=op.f("uq_storyboard_shots_storyboard_id_uid")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_storyboard_shots_position")),
        sa.CheckConstraint("duration >= 0", name=op.f("ck_storyboard_shots_duration")),
        sa.CheckConstraint(_in("duration_unit", DURATION_UNITS),
                           name=op.f("ck_storyboard_shots_duration_unit")),
    )


def downgrade() -> None:
    op.drop_table("storyboard_shots")
    op.drop_index(op.f("ix_storyboard_renders_content_hash"), table_name="storyboard_renders")
    op.drop_index(op.f("ix_storyboard_renders_storyboard_id_shot_uid"), table_name="storyboard_renders")
    op.drop_table("storyboard_renders")
    op.drop_table("storyboards")
