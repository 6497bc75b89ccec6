"""Export: the round trip import -> annotate -> verify with a fix -> export, splits, atomicity."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.dataset.annotate import annotate_clip
from cinestudio.dataset.collect import import_paths
from cinestudio.dataset.export import export_dataset, stratified_split
from cinestudio.dataset.verify import verify_clip
from cinestudio.errors import UserInputError
from cinestudio.media.probe import probe
from cinestudio.media.sampling import sample_frames
from tests.helpers.videos import frame_number


def test_round_trip_with_a_fixed_label(tmp_path, footage):
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    base = ["--workspace", ws]
    res = runner.invoke(app, [*base, "import", str(footage), "--json"])
    assert res.exit_code == 0, res.output
    imported = {e["path"].rsplit("/", 1)[-1]: e["clips"] for e in json.loads(res.stdout)["imported"]}
    second_shot = imported["montage.mp4"][1]          # frames [20, 40) of the montage
    pattern = imported["pattern.mp4"][0]
    for clip in (second_shot, pattern):
        res = runner.invoke(app, [*base, "annotate", str(clip), "--annotator", "ana", "--framing",
                                  "medium_shot", "--angle", "eye_level", "--movement", "zoom_in",
                                  "--caption", "the camera zooms in"])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*base, "verify", str(second_shot), "--reviewer", "rev", "--fix",
                              "angle=high_angle", "--fix", "movement=zoom_in", "--fix",
                              "movement=pan_left"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*base, "verify", str(pattern), "--reviewer", "rev", "--accept"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "export"
    res = runner.invoke(app, [*base, "export", str(out), "--stage", "verified", "--format", "jsonl",
                              "--split", "0.5,0.5,0", "--seed", "3", "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    by_id = {r["clip_id"]: r for r in rows}
    assert set(by_id) == {second_shot, pattern}
    fixed = by_id[second_shot]
    assert (fixed["angle"], fixed["movement"], fixed["framing"]) == ("high_angle",
                                                                     ["zoom_in", "pan_left"],
                                                                     "medium_shot")
    assert fixed["caption"] == "the camera zooms in" and fixed["reviewer"] == "rev"
    assert fixed["source"].endswith("montage.mp4")
    assert (fixed["source_start"], fixed["source_end"]) == (20, 40)
    assert {r["split"] for r in rows} <= {"train", "val"}
    for r in rows:   # the clip files are there, H.264, with the clip's frames
        info = probe(out / r["file"])
        assert info.codec == "h264" and info.frames == r["frames"]
    # frame-accurate cuts: the exported shot is frames [20, 40) of the montage
    import numpy as np

    from cinestudio.media.decode import read_frames

    cut = read_frames(out / fixed["file"]).astype(float)
    src = read_frames(fixed["source"], 20, 40).astype(float)
    assert cut.shape == src.shape and np.abs(cut - src).mean() < 4
    assert np.abs(cut - read_frames(fixed["source"], 19, 39).astype(float)).mean() > 8
    # ... and the pattern clip's frames carry their own numbers
    pat = by_id[pattern]
    frames = sample_frames(out / pat["file"], 16)
    assert [frame_number(f) for f in frames] == list(range(16))
    # what the CameraCLIP trainer reads: the manifest's folder, its labels as keys
    from cinestudio.cameraclip.data import load_items

    items = {i.path.name: i for i in load_items(out)}
    item = items[f"{second_shot:06d}.mp4"]
    assert item.labels["movement"] == ("zoom_in", "pan_left") and item.start == 0 and item.end is None
    # the export is in the audit log
    from cinestudio.store import open_workspace

    with open_workspace(ws) as store:
        (entry,) = store.audit.find(entity_type="export")
        assert entry.after["clips"] == 2


def _rows(n_sources: int, per_source: int) -> list[dict]:
    rows, cid = [], 0
    for s in range(n_sources):
        for k in range(per_source):
            cid += 1
            rows.append({"clip_id": cid, "source_id": s, "framing": ["close_up", "long_shot"][s % 2],
                         "angle": "eye_level", "movement": [["pan_left", "static", "zoom_in"][s % 3]]})
    return rows


def test_splits_are_stratified_and_never_share_a_source():
    rows = _rows(40, 3)
    split = stratified_split(rows, (0.8, 0.1, 0.1), seed=1)
    by_source: dict[int, set[str]] = {}
    for r in rows:
        by_source.setdefault(r["source_id"], set()).add(split[r["clip_id"]])
    assert all(len(s) == 1 for s in by_source.values())
    counts = {s: sum(1 for v in split.values() if v == s) for s in ("train", "val", "test")}
    assert counts == {"train": 96, "val": 12, "test": 12}
    for key in ("pan_left", "static", "zoom_in"):       # every class in every split
        in_class = [r for r in rows if r["movement"] == [key]]
        assert {split[r["clip_id"]] for r in in_class} == {"train", "val", "test"}
    assert split == stratified_split(rows, (0.8, 0.1, 0.1), seed=1)    # deterministic
    assert split != stratified_split(rows, (0.8, 0.1, 0.1), seed=2)


def test_export_csv_refusals_and_atomicity(store, footage, tmp_path, monkeypatch):
    report = import_paths(store, [footage / "rocket_pan.mp4"])
    (clip,) = report.clip_ids
    with pytest.raises(UserInputError, match="no verified clips"):
        export_dataset(store, tmp_path / "e")
    annotate_clip(store, clip, "ana", framing="long_shot", angle="low_angle",
                  movements=["pan_right", "tilt_up"])
    verify_clip(store, clip, "rev", decision="accept")
    with pytest.raises(UserInputError, match="unknown format"):
        export_dataset(store, tmp_path / "e", fmt="xml")
    with pytest.raises(UserInputError, match="split"):
        export_dataset(store, tmp_path / "e", split="0.5,-1")
    out = tmp_path / "e"
    export_dataset(store, out, fmt="csv", split="1")
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["movement"] == "pan_right;tilt_up" and row["split"] == "train"
    with pytest.raises(UserInputError, match="not empty"):
        export_dataset(store, out)
    # a failing export leaves the previous one untouched
    import cinestudio.dataset.export as ex

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ex, "write_mp4", boom)
    with pytest.raises(RuntimeError):
        export_dataset(store, out, overwrite=True)
    assert (out / "manifest.csv").is_file() and not (out / "manifest.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.undo()
    export_dataset(store, out, overwrite=True)
    assert (out / "manifest.jsonl").is_file() and not (out / "manifest.csv").exists()
