from __future__ import annotations

import json

import numpy as np
import pytest

from cinestudio.cameraclip.data import FrameCache, load_items, load_table, split_items
from cinestudio.errors import UserInputError
from cinestudio.progress import Cancelled


def test_simulator_folder_and_export_manifest_read_alike(tmp_path, clip_data):
    sim = load_items(clip_data)
    assert len(sim) == 14 and sim[0].path.is_file() and sim[0].labels["movement"]
    manifest = tmp_path / "export.jsonl"
    lines = [{"file": str(sim[0].path), "framing": "close_up", "angle": None,
              "movement": ["pan_left", "tilt_up"], "caption": "x", "split": "train"},
             {"file": str(sim[1].path), "framing": "long_shot", "angle": "high_angle", "movement": "static",
              "caption": "y", "split": "val"}]
    manifest.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    items = load_items(manifest)
    assert items[0].labels == {"framing": ("close_up",), "angle": (), "movement": ("pan_left", "tilt_up")}
    train, val = split_items(items)
    assert [i.split for i in train] == ["train"] and [i.split for i in val] == ["val"]


def test_bad_manifests_are_user_errors(tmp_path):
    with pytest.raises(UserInputError):
        load_items(tmp_path)  # a folder without labels.jsonl
    bad = tmp_path / "m.jsonl"
    bad.write_text(json.dumps({"file": "a.mp4", "movement": "moonwalk"}) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="moonwalk"):
        load_items(bad)


def test_manifest_combines_data_sets_for_one_training_run(tmp_path, clip_data):
    """`clip manifest` writes what `load_items` reads back: every clip once, same labels, paths
    relative to the manifest (so the folder can move); a bad source writes nothing."""
    from typer.testing import CliRunner

    from cinestudio.cli import app
    from tests.cameraclip.clips import make_clips

    other = tmp_path / "more"
    make_clips(other, per_move=1, seed=5)
    out = tmp_path / "sets" / "train.jsonl"
    res = CliRunner().invoke(app, ["clip", "manifest", str(out), "--data", str(clip_data),
                                   "--data", str(other), "--data", str(clip_data), "--json"])
    assert res.exit_code == 0, res.output
    first, second = load_items(clip_data), load_items(other)
    assert json.loads(res.stdout)["clips"] == len(first) + len(second)
    combined = load_items(out)
    assert [(c.path.resolve(), c.labels, c.labels_hold) for c in combined] == \
        [(c.path.resolve(), c.labels, c.labels_hold) for c in first + second]
    assert all(not json.loads(line)["file"].startswith("/") for line in out.read_text().splitlines())
    res = CliRunner().invoke(app, ["clip", "manifest", str(tmp_path / "x.jsonl"), "--data",
                                   str(tmp_path / "missing")])
    assert res.exit_code == 2 and not (tmp_path / "x.jsonl").exists()


def test_load_table_on_worker_threads_matches_one_thread_and_stops(tmp_path, clip_data):
    """Frames fetched ahead on threads come back in the items' order, the same as one by one; a
    stop request ends the load with Cancelled."""
    items = load_items(clip_data)
    one = load_table(items, FrameCache(None, 4, 32))
    many = load_table(items, FrameCache(None, 4, 32), workers=2)
    assert [it.key for it in many.items] == [it.key for it in one.items]
    np.testing.assert_array_equal(many.frames, one.frames)
    np.testing.assert_array_equal(many.motion, one.motion)
    seen = []
    with pytest.raises(Cancelled):
        load_table(items, FrameCache(None, 4, 32), progress=lambda i, n, what: seen.append(i),
                   should_stop=lambda: len(seen) >= 3, workers=2)
    assert len(seen) == 3
