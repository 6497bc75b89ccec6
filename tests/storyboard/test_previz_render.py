"""Previz renders: frame counts, the intended camera motion (optical flow), the cache, the outputs."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from cinestudio.media.motion import estimate_motion
from cinestudio.media.probe import probe
from cinestudio.storyboard import motioncheck
from cinestudio.storyboard.cache import RenderCache
from cinestudio.storyboard.model import Shot, save_board_file
from cinestudio.storyboard.plan import content_hash, plan_render
from cinestudio.storyboard.render import render_board
from tests.storyboard.conftest import FPS, SIZE, small_board, textured_picture


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The acceptance board (long shot pan right, low angle dolly in, close-up static) rendered once."""
    out = tmp_path_factory.mktemp("render")
    board = small_board()
    sidecar = render_board(board, "previz", out)
    return board, out, sidecar


def test_frame_counts_per_shot_and_sequence(rendered):
    board, out, sidecar = rendered
    expected = [16, 15, 12]
    assert [s["frames"] for s in sidecar["shots"]] == expected
    assert [(s["start_frame"], s["end_frame"]) for s in sidecar["shots"]] == [(0, 16), (16, 31), (31, 43)]
    for s, n in zip(sidecar["shots"], expected):
        info = probe(out / s["clip"])
        assert info.frames == n and (info.width, info.height) == SIZE
    seq = probe(out / "sequence.mp4")
    assert seq.frames == 43 == sidecar["total_frames"] and abs(seq.fps - FPS) < 1e-6
    assert (seq.width, seq.height) == SIZE and seq.codec == "h264"
    assert (out / "sequence.gif").stat().st_size > 1000
    sheet = cv2.imread(str(out / "contact-sheet.png"))
    assert sheet is not None and sheet.shape[0] > 3 * 90


def test_each_shot_moves_as_the_board_says(rendered):
    """The optical-flow estimator, run on the written clips, finds the intended camera moves."""
    board, out, sidecar = rendered
    families = []
    for s in sidecar["shots"]:
        report = estimate_motion(out / s["clip"])
        families.append({motioncheck.FAMILIES.get(k) for k in report.dominant})
        assert motioncheck.agrees(s["movements"], report.to_dict()) is True, (s["title"], report.dominant)
        assert s["motion_agrees"] is True
    assert families[0] == {"right"}          # pan right
    assert families[1] == {"in"}             # dolly in: the picture grows
    assert families[2] == {"static"}


def test_sidecar_documents_each_shot(rendered):
    board, out, sidecar = rendered
    on_disk = json.loads((out / "render.json").read_text(encoding="utf-8"))
    assert on_disk["format"] == "cinestudio-render" and on_disk["backend"] == "previz"
    assert on_disk["outputs"] == {"mp4": "sequence.mp4", "gif": "sequence.gif", "contact_sheet": "contact-sheet.png",
                                  "board": "board.cinestudio-board.json", "sidecar": "render.json"}
    for s, shot in zip(on_disk["shots"], board.shots):
        assert s["id"] == shot.id and s["seed"] == shot.seed and s["backend"] == "previz"
        assert s["loras"] == {} and s["lora_schedule"] is None and s["cameraclip"] is None
        assert len(s["content_hash"]) == 64 and s["cached"] is False
    assert (out / "board.cinestudio-board.json").is_file()


def test_unchanged_shots_come_from_the_cache(rendered, tmp_path):
    board, out, _ = rendered
    cache = RenderCache(out / "cache")
    assert plan_render(board, "previz", cache).todo == []
    renamed = board.copy()
    renamed.shots[0].title = "Another title"
    renamed.shots[2].notes = "notes do not count"
    again = render_board(renamed, "previz", tmp_path / "again", cache=cache, formats=("json",), check_motion=False)
    assert again["rendered"] == 0 and again["from_cache"] == 3
    reseeded = board.copy()
    reseeded.shots[1].seed = 99
    assert content_hash(reseeded, reseeded.shots[1], "previz") != content_hash(board, board.shots[1], "previz")
    third = render_board(reseeded, "previz", tmp_path / "third", cache=cache, formats=("json",), check_motion=False)
    assert third["rendered"] == 1 and [s["cached"] for s in third["shots"]] == [True, False, True]


def test_planar_move_over_a_reference_picture(tmp_path):
    textured_picture(tmp_path / "still.png")
    board = small_board(shots=[Shot("Postcard", framing="long_shot", movements=["pan_left"], duration=14,
                                    duration_unit="frames", seed=4, reference_image="still.png")])
    board.base_dir = tmp_path
    sidecar = render_board(board, "previz", tmp_path / "out", formats=("clips", "json"))
    shot = sidecar["shots"][0]
    assert shot["frames"] == 14 and shot["motion_agrees"] is True
    assert "pan_left" in shot["measured_motion"]["dominant"]
    frames = np.asarray(cv2.VideoCapture(str(tmp_path / "out" / shot["clip"])).read()[1])
    assert frames.shape == (SIZE[1], SIZE[0], 3)


def test_cli_render_json(tmp_path):
    from cinestudio.cli import app

    board = small_board(shots=small_board().shots[2:])        # one static shot: fast
    path = save_board_file(board, tmp_path / "b.cinestudio-board.json")
    res = CliRunner().invoke(app, ["storyboard", "render", str(path), "--backend", "previz", "--out",
                                   str(tmp_path / "out"), "--json", "--format", "mp4", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["total_frames"] == 12 and data["outputs"]["mp4"] == "sequence.mp4"
    assert (tmp_path / "out" / "sequence.mp4").is_file() and not (tmp_path / "out" / "sequence.gif").exists()
