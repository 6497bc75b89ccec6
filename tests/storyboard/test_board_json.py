"""The board file format: round trip, shorthands, structural errors, validation messages."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cinestudio.errors import UserInputError
from cinestudio.storyboard.model import (Board, Shot, board_from_dict, board_to_dict, load_board_file,
                                         save_board_file)
from cinestudio.storyboard.validate import check_board, validate_board
from tests.storyboard.conftest import small_board, textured_picture


def test_round_trip_keeps_every_field(tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    textured_picture(refs / "street.png")
    board = small_board(name="Chase — nuit", notes="night chase", previz={"environment": "outdoor"},
                        diffusion={"base": "runs/diff-tiny", "steps": 8})
    board.base_dir = tmp_path
    board.shots[0].reference_image = "refs/street.png"
    board.shots[1].loras = {"dolly_in": 0.8, "low_angle": 0.5}
    board.shots[2].notes = "hold on the eyes"
    path = save_board_file(board, tmp_path / "chase.cinestudio-board.json")
    back = load_board_file(path)
    assert board_to_dict(back) == board_to_dict(board)
    assert [s.id for s in back.shots] == [s.id for s in board.shots]
    assert [s.frames(back.fps) for s in back.shots] == [16, 15, 12]
    assert back.resolve_path(back.shots[0].reference_image) == (refs / "street.png").resolve()
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "cinestudio-board" and raw["version"] == 1
    assert raw["shots"][0]["duration"] == {"frames": 16} and raw["shots"][1]["duration"] == {"seconds": 1.25}
    assert raw["shots"][0]["reference_image"] == "refs/street.png"      # relative to the file


def test_a_file_written_elsewhere_still_finds_its_pictures(tmp_path):
    textured_picture(tmp_path / "still.png")
    board = small_board()
    board.base_dir = tmp_path
    board.shots[0].reference_image = "still.png"
    other = tmp_path / "elsewhere" / "b.cinestudio-board.json"
    other.parent.mkdir()
    save_board_file(board, other)
    back = load_board_file(other)
    assert back.resolve_path(back.shots[0].reference_image).is_file()


def test_shorthands_and_defaults():
    b = board_from_dict({"shots": [{"frames": 12, "movement": "pan_left"}, {"seconds": 1.5},
                                   {"duration": 2}, {}]})
    assert b.fps == 12 and (b.width, b.height) == (320, 180)
    assert [(s.duration, s.duration_unit) for s in b.shots] == [(12, "frames"), (1.5, "seconds"),
                                                                 (2, "seconds"), (2.0, "seconds")]
    assert b.shots[0].movements == ["pan_left"] and b.shots[3].movements == ["static"]
    assert len({s.id for s in b.shots}) == 4


@pytest.mark.parametrize("raw, where", [
    ({"shots": [{"framing": "close_up", "zoom": 2}]}, "shots[0].zoom"),
    ({"shots": [{"duration": {"minutes": 1}}]}, "shots[0].duration"),
    ({"shots": [{"seed": 1.5}]}, "shots[0].seed"),
    ({"shots": [{"movements": "pan_left, zoom_in"}], "fps": "fast"}, "fps"),
    ({"shots": [{"id": "a"}, {"id": "a"}]}, "shots[1].id"),
    ({"colour": "red"}, "colour"),
    ({"diffusion": {"sampler": "x"}}, "diffusion.sampler"),
])
def test_structural_errors_name_the_field(raw, where):
    with pytest.raises(UserInputError) as err:
        board_from_dict(raw)
    assert err.value.subject == where


def test_files_that_are_not_boards(tmp_path):
    bad = tmp_path / "x.cinestudio-board.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserInputError, match="not valid JSON"):
        load_board_file(bad)
    bad.write_text(json.dumps({"format": "cinestudio-board", "version": 99}), encoding="utf-8")
    with pytest.raises(UserInputError, match="newer than this CineStudio"):
        load_board_file(bad)
    bad.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(UserInputError, match="not a storyboard file"):
        load_board_file(bad)
    with pytest.raises(UserInputError, match="no such file"):
        load_board_file(tmp_path / "missing.json")


def test_validation_lists_every_problem_with_clear_messages(tmp_path):
    board = Board(name="Bad", base_dir=tmp_path, shots=[
        Shot("A", framing="long_shoot", movements=["pan_rigth"], duration=0, duration_unit="frames"),
        Shot("B", angle="pan_left", movements=["static", "zoom_in"], duration=0.01, reference_image="nope.png"),
        Shot("C", movements=["zoom_in"], duration=2, duration_unit="frames"),
    ])
    issues = validate_board(board)
    text = [i.message for i in issues if i.severity == "error"]
    assert 'shot 1 "A": framing \'long_shoot\' is not a class of cinematic2k (did you mean long_shot?)' in text
    assert 'shot 1 "A": movement \'pan_rigth\' is not a class of cinematic2k (did you mean pan_right?)' in text
    assert 'shot 1 "A": duration is 0 frames; a shot needs at least one frame' in text
    assert any("angle 'pan_left'" in t and "it is a movement class" in t for t in text)
    assert 'shot 2 "B": static cannot be combined with other movements' in text
    assert any(t.startswith('shot 2 "B": duration is 0.01 s = 0 frames at 12 fps') for t in text)
    assert any(t.startswith('shot 2 "B": reference image not found: nope.png') for t in text)
    warnings = [i for i in issues if i.severity == "warning"]
    assert [w.shot for w in warnings] == [2]                       # 2 frames: too short for a move
    with pytest.raises(UserInputError) as err:
        check_board(board)
    assert err.value.reason.startswith("7 problems: ") and "long_shoot" in err.value.reason


def test_board_level_problems():
    assert [i.field for i in validate_board(Board(shots=[]))] == ["shots"]
    assert [i.field for i in validate_board(Board(fps=0, shots=[Shot()]))] == ["fps"]
    assert "diffusion.base" in [i.field for i in validate_board(Board(shots=[Shot()]), backend="diffusion")]
    assert validate_board(small_board(), backend="previz") == []


def test_cli_validate(tmp_path):
    from cinestudio.cli import app

    good = save_board_file(small_board(), tmp_path / "good.cinestudio-board.json")
    bad = tmp_path / "bad.cinestudio-board.json"
    bad.write_text(json.dumps({"shots": [{"framing": "close_upp", "frames": 0}]}), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["storyboard", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "3 shots, 43 frames — ok" in ok.output
    res = runner.invoke(app, ["storyboard", "validate", str(bad), "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False and {i["field"] for i in data["issues"]} == {"framing", "duration"}
    res = runner.invoke(app, ["storyboard", "render", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.startswith("error: board 'Untitled board': 2 problems: ")
