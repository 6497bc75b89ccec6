from __future__ import annotations

import json

import pytest

from cinestudio.cameraclip.data import load_items, split_items
from cinestudio.errors import UserInputError


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
