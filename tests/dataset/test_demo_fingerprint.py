"""The demo workspace (idempotent, through the real import), fingerprints and import claims."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.dataset import fingerprint as fp
from cinestudio.dataset.claims import Claims
from cinestudio.dataset.collect import ImportReport, import_file
from cinestudio.dataset.demo import ANNOTATORS, REVIEWER, build_demo
from cinestudio.dataset.stats import dataset_stats
from cinestudio.store import open_workspace


def test_demo_builds_once_with_content_in_every_stage(tmp_path):
    with open_workspace(tmp_path / "demo") as store:
        result = build_demo(store, per_class=1, size=64, frames=16)
        assert result["created"] and result["import_errors"] == 0
        stats = dataset_stats(store)
        clips = stats["clips"]
        assert clips["total"] >= 20 and clips["verified"] == 2 and clips["rejected"] == 1
        assert clips["annotated"] > 0 and clips["collected"] > 0
        assert stats["annotators"] == sorted(ANNOTATORS)
        assert all(stats["agreement"][axis]["items"] > 0 for axis in ("framing", "angle", "movement"))
        assert stats["agreement"]["framing"]["kappa"] == 1.0
        assert stats["agreement"]["angle"]["disagreements"] > 0
        # imported like any footage: thumbnails, motion pre-labels
        clip = store.clips.find(limit=1)[0]
        assert clip.thumbnail_path and any(p.origin == "motion" for p in clip.prelabels)
        assert {r.reviewer for r in [store.clips.get(i).review for i in
                                     store.clips.ids(stage=("verified", "rejected"))]} == {REVIEWER}
        before = store.info()["counts"]
        audit = store.audit.count()
    runner = CliRunner()
    res = runner.invoke(app, ["--workspace", str(tmp_path / "demo"), "demo"])
    assert res.exit_code == 0 and "already built" in res.stdout and "nothing to do" in res.stdout
    with open_workspace(tmp_path / "demo") as store:
        assert store.info()["counts"] == before and store.audit.count() == audit


def _frames(seed: int, n: int = 8) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    import cv2

    big = cv2.resize(base, (160, 120), interpolation=cv2.INTER_CUBIC)
    return [np.roll(big, 3 * i, axis=1) for i in range(n)]


def test_fingerprint_matching():
    a = fp.frames_fingerprint(_frames(0), 100)
    noisy = [np.clip(f.astype(int) + np.random.default_rng(1).integers(-6, 7, f.shape), 0, 255)
             .astype(np.uint8) for f in _frames(0)]
    assert fp.same_content(a, fp.frames_fingerprint(noisy, 100))
    assert fp.same_content(a, fp.frames_fingerprint([f[::2, ::2] for f in _frames(0)], 101))
    darker = [(f * 0.8 + 16).astype(np.uint8) for f in _frames(0)]
    assert fp.same_content(a, fp.frames_fingerprint(darker, 100))        # levels / contrast
    assert not fp.same_content(a, fp.frames_fingerprint(_frames(1), 100))
    assert not fp.same_content(a, fp.frames_fingerprint(_frames(0), 150))  # other length
    flat = fp.frames_fingerprint([np.zeros((32, 32, 3), np.uint8)] * 8, 100)
    assert fp.is_weak(flat) and not fp.same_content(flat, flat)
    assert fp.find_same(a, [(1, fp.frames_fingerprint(_frames(1), 100)), (2, a)]) == (2, 0.0)
    assert fp.parse("garbage") is None and not fp.same_content("garbage", a)


def test_claims_defer_to_a_live_importer_and_take_over_stale_ones(tmp_path, store, media_dir):
    claims = Claims(tmp_path / "claims")
    sha = fp.sha256_file(media_dir / "pattern.mp4")
    # a claim held by another live process (our parent) on this host
    (tmp_path / "claims").mkdir()
    import socket

    (tmp_path / "claims" / f"{sha}.claim").write_text(f"{os.getppid()}@{socket.gethostname()}\n")
    assert claims.claim(sha) is None
    report = ImportReport()
    assert import_file(store, media_dir / "pattern.mp4", report, claims=claims, wait=False) is False
    assert report.imported == [] and store.sources.count() == 0
    # the holder died: the claim is stale and taken over
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / "claims" / f"{sha}.claim").write_text(f"{dead}@{socket.gethostname()}\n")
    assert import_file(store, media_dir / "pattern.mp4", report, claims=claims, wait=False)
    assert len(report.imported) == 1 and not (tmp_path / "claims" / f"{sha}.claim").exists()
