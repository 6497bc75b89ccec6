from __future__ import annotations

import hashlib

import pytest

from cinestudio.store import WorkspaceStore, open_workspace


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def store(tmp_path) -> WorkspaceStore:
    with open_workspace(tmp_path / "ws") as ws:
        yield ws


@pytest.fixture
def clip_ids(store: WorkspaceStore) -> list[int]:
    src, _ = store.sources.add(path="/videos/a.mp4", content_sha256=sha("a"), size_bytes=1000,
                               frames=300, fps=25.0, width=640, height=360, codec="h264",
                               duration_s=12.0)
    return [c.id for c in store.clips.add_many(src.id, [(0, 100), (100, 200), (200, 300)])]
