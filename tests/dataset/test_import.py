"""Import (stage 1): shots, thumbnails, pre-labels, duplicates by content, errors, re-runs."""

from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app
from cinestudio.dataset import collect
from cinestudio.dataset.collect import ImportCancelled, import_paths
from cinestudio.dataset.prelabel import register_prelabeller, unregister_prelabeller
from cinestudio.errors import UserInputError
from cinestudio.media.decode import read_frames
from cinestudio.media.encode import write_mp4
from cinestudio.store import PrelabelSpec
from cinestudio.store.settings import CAMERACLIP_RUN
from tests.dataset.conftest import MONTAGE_CUTS, MONTAGE_MOVES


def _by_name(report) -> dict[str, dict]:
    return {e["path"].rsplit("/", 1)[-1]: e for e in report.imported}


def test_import_folder_shots_thumbnails_prelabels(store, footage):
    report = import_paths(store, [footage])
    assert report.errors == [] and report.duplicates == [] and report.exit_code == 0
    entries = _by_name(report)
    assert set(entries) == {"montage.mp4", "rocket_pan.mp4", "pattern.mp4"}   # notes.txt ignored
    montage = store.clips.get_many(entries["montage.mp4"]["clips"])
    assert [(c.start_frame, c.end_frame) for c in montage] == [(0, 20), (20, 40), (40, 60)]
    for c in store.clips.find():
        assert c.stage == "collected" and c.labels == ()       # suggestions are not labels
        thumb = store.paths.root / c.thumbnail_path
        assert thumb.is_file() and thumb.read_bytes()[:2] == b"\xff\xd8"
        assert all(p.origin == "motion" and 0.0 <= p.confidence <= 1.0 for p in c.prelabels)
    # the motion estimator's movement, shot by shot, over real photographs
    top = [next(p.key for p in c.prelabels if p.rank == 0) for c in montage]
    assert top == MONTAGE_MOVES
    src = store.sources.get(entries["montage.mp4"]["source_id"])
    assert src.frames == 60 and src.fingerprint and src.probe["cuts"] == MONTAGE_CUTS
    assert store.labels.count() == 0


def test_rerun_skips_what_is_in(store, footage):
    first = import_paths(store, [footage])
    counts = store.info()["counts"]
    again = import_paths(store, [footage, footage / "montage.mp4"])
    assert again.imported == [] and again.duplicates == [] and again.errors == []
    assert sorted(e["source_id"] for e in again.already_imported) == sorted(
        e["source_id"] for e in first.imported)
    assert store.info()["counts"] == counts


def test_duplicates_by_content_renamed_and_reencoded(store, footage, tmp_path):
    import_paths(store, [footage / "montage.mp4"])
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copy(footage / "montage.mp4", copies / "renamed copy.mp4")
    frames = read_frames(footage / "montage.mp4")
    write_mp4(copies / "reencoded.mp4", frames, fps=10, crf=32, preset="ultrafast")  # other bytes
    write_mp4(copies / "smaller.mp4", frames[:, ::2, ::2], fps=10, crf=26)           # half size
    assert (copies / "reencoded.mp4").read_bytes() != (footage / "montage.mp4").read_bytes()
    report = import_paths(store, [copies, footage / "rocket_pan.mp4"])
    dups = {d["path"].rsplit("/", 1)[-1]: d for d in report.duplicates}
    assert set(dups) == {"renamed copy.mp4", "reencoded.mp4", "smaller.mp4"}
    assert dups["renamed copy.mp4"]["match"] == "identical bytes"
    assert dups["reencoded.mp4"]["match"] == dups["smaller.mp4"]["match"] == "same frames"
    assert all(d["duplicate_of"].endswith("montage.mp4") for d in dups.values())
    assert [e["path"].rsplit("/", 1)[-1] for e in report.imported] == ["rocket_pan.mp4"]
    assert store.sources.count() == 2


def test_different_videos_are_not_duplicates(store, media_dir):
    report = import_paths(store, [media_dir / "pattern.mp4", media_dir / "pattern2.mp4"])
    assert len(report.imported) == 2 and report.duplicates == []


def test_corrupt_file_is_named_and_others_go_in(store, footage, corrupt):
    shutil.copy(corrupt, footage / "broken.mp4")
    report = import_paths(store, [footage])
    assert report.exit_code == 1
    assert [e["path"].rsplit("/", 1)[-1] for e in report.errors] == ["broken.mp4"]
    assert "not a video" in report.errors[0]["error"]
    assert len(report.imported) == 3


def test_cli_exit_codes_and_json(tmp_path, footage, corrupt):
    runner = CliRunner()
    ws = str(tmp_path / "cli_ws")
    res = runner.invoke(app, ["--workspace", ws, "import", str(footage), str(corrupt), "--json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert set(data) >= {"imported", "duplicates", "errors"}
    assert [e["path"] for e in data["errors"]] == [str(corrupt)]
    assert sum(len(e["clips"]) for e in data["imported"]) == 5
    assert f"error: {corrupt}: " in res.stderr
    res = runner.invoke(app, ["--workspace", ws, "import", str(footage), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["imported"] == []
    res = runner.invoke(app, ["--workspace", ws, "import", str(tmp_path / "missing")])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing'}: no such file or folder"]


def test_min_frames_skips_short_shots_with_a_reason(store, footage):
    report = import_paths(store, [footage / "montage.mp4", footage / "rocket_pan.mp4"],
                          min_frames=18)
    entries = _by_name(report)
    assert len(entries["montage.mp4"]["clips"]) == 3
    assert entries["rocket_pan.mp4"]["clips"] == []
    skipped = entries["rocket_pan.mp4"]["skipped"]
    assert skipped[0]["start"] == 0 and skipped[0]["end"] == 16
    assert "too short: 16 frames < 18" in skipped[0]["reason"]


def test_a_failed_transaction_leaves_nothing_and_the_rerun_finishes(store, footage, monkeypatch):
    real = collect._commit
    calls = {"n": 0}

    def flaky(store_, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:   # the second file dies inside its transaction, after the source row
            original = store_.transaction

            def tx():
                import contextlib

                @contextlib.contextmanager
                def broken():
                    with original() as t:
                        real_add_many = t.clips.add_many

                        def add_many(*a, **k):
                            real_add_many(*a, **k)
                            raise RuntimeError("power cut")
                        t.clips.add_many = add_many
                        yield t
                return broken()
            monkeypatch.setattr(store_, "transaction", tx)
            try:
                return real(store_, *args, **kwargs)
            finally:
                monkeypatch.setattr(store_, "transaction", original)
        return real(store_, *args, **kwargs)

    monkeypatch.setattr(collect, "_commit", flaky)
    report = import_paths(store, [footage])
    assert len(report.imported) == 2 and "power cut" in report.errors[0]["error"]
    # no trace of the failed file: no source, no clip
    assert store.sources.count() == 2 and store.clips.count() == sum(
        len(e["clips"]) for e in report.imported)
    monkeypatch.setattr(collect, "_commit", real)
    again = import_paths(store, [footage])
    assert len(again.imported) == 1 and len(again.already_imported) == 2
    assert store.clips.count() == 5


def test_should_stop_cancels_cleanly(store, footage):
    polls = {"n": 0}

    def stop() -> bool:
        polls["n"] += 1
        return polls["n"] > 3

    with pytest.raises(ImportCancelled) as info:
        import_paths(store, [footage], should_stop=stop)
    report = info.value.report
    assert report.cancelled
    # what is in is whole
    for entry in report.imported:
        assert len(store.clips.find(source_id=entry["source_id"])) == len(entry["clips"])
    assert store.sources.count() == len(report.imported)


def test_pluggable_prelabeller(store, footage):
    class Constant:
        origin, model_id = "constant", "v0"

        def prelabel(self, video, shot):
            return [PrelabelSpec("framing", "close_up", 0.5)]

    register_prelabeller("constant", lambda store_, tax: Constant())
    try:
        import_paths(store, [footage / "rocket_pan.mp4"])
    finally:
        unregister_prelabeller("constant")
    (clip,) = store.clips.find()
    assert {(p.origin, p.axis, p.key) for p in clip.prelabels} >= {("constant", "framing", "close_up")}


def test_cameraclip_prelabels_only_when_the_setting_names_a_run(store, footage, tmp_path,
                                                              monkeypatch):
    fake = types.ModuleType("fake_cameraclip_infer")
    loaded = []

    def load_run(run, device="cpu"):
        loaded.append(run)
        return types.SimpleNamespace(model=types.SimpleNamespace(spec=types.SimpleNamespace(num_frames=4)))

    fake.load_run = load_run
    fake.read_clip = lambda path, n, start, end: read_frames(path, start, start + n)
    fake.classify_frames = lambda run, frames: {
        "framing": [{"key": "long_shot", "score": 0.7}, {"key": "close_up", "score": 0.2}],
        "angle": [{"key": "high_angle", "score": 0.9}],
        "movement": [{"key": "not_in_scheme", "score": 0.6}, {"key": "pan_right", "score": 0.3}]}
    monkeypatch.setitem(sys.modules, "fake_cameraclip_infer", fake)
    monkeypatch.setattr("cinestudio.dataset.prelabel.CameraClipPrelabeller.MODULE",
                        "fake_cameraclip_infer")

    import_paths(store, [footage / "nested" / "pattern.mp4"])
    assert loaded == [] and {p.origin for c in store.clips.find() for p in c.prelabels} <= {"motion"}

    store.settings.set(CAMERACLIP_RUN, "runs/missing")
    with pytest.raises(UserInputError, match="run folder not found"):
        import_paths(store, [footage / "rocket_pan.mp4"])

    run = store.paths.runs_dir / "clip1"
    run.mkdir()
    (run / "config.json").write_text("{}", encoding="utf-8")
    store.settings.set(CAMERACLIP_RUN, "runs/clip1")
    report = import_paths(store, [footage / "rocket_pan.mp4"])
    (clip,) = store.clips.get_many(report.clip_ids)
    cc = sorted((p.axis, p.rank, p.key, p.confidence) for p in clip.prelabels
                if p.origin == "cameraclip")
    assert cc == [("angle", 0, "high_angle", 0.9), ("framing", 0, "long_shot", 0.7),
                  ("framing", 1, "close_up", 0.2), ("movement", 0, "pan_right", 0.3)]
    assert loaded == [run] and clip.labels == ()


def test_bad_and_awkward_inputs(store, tmp_path):
    from tests.helpers.videos import make_corrupt_files

    files = make_corrupt_files(tmp_path / "bad")
    names = ("empty", "text_mp4", "image_as_mp4", "no_moov", "truncated_tail", "lying_avi",
             "non_ascii")
    report = import_paths(store, [files[n] for n in names], min_frames=4)
    failed = {e["path"]: e["error"] for e in report.errors}
    assert set(failed) == {str(files[n]) for n in ("empty", "text_mp4", "image_as_mp4", "no_moov")}
    assert "empty" in failed[str(files["empty"])] and "moov" in failed[str(files["no_moov"])]
    frames = {e["path"]: e["frames"] for e in report.imported}
    assert frames[str(files["lying_avi"])] == 28                 # not the 40 its header claims
    assert frames[str(files["non_ascii"])] == 12
    assert 0 < frames[str(files["truncated_tail"])] < 20
    (src,) = [s for s in store.sources.all() if s.display_name == "plan séquence 日本.mp4"]
    assert len(store.clips.find(source_id=src.id)) == 1
