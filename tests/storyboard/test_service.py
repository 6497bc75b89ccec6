"""Boards in a workspace: storage, import/export, render history (keep, revert), the demo board."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cinestudio.errors import UserInputError
from cinestudio.store import open_workspace
from cinestudio.storyboard import service
from cinestudio.storyboard.demo import DEMO_BOARD, ensure_demo_storyboard
from cinestudio.storyboard.model import board_to_dict, save_board_file
from cinestudio.storyboard.render import render_board
from tests.storyboard.conftest import small_board, textured_picture


@pytest.fixture
def store(tmp_path):
    with open_workspace(tmp_path / "ws") as s:
        yield s


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "name"}


def test_boards_are_stored_and_loaded_unchanged(store):
    board = small_board(name="Chase", previz={"time_of_day": "dusk"})
    board.shots[1].loras = {"dolly_in": 0.7}
    created = service.create_board(store, "Chase", fps=board.fps, width=board.width, height=board.height,
                                   shots=board.shots)
    created.previz = dict(board.previz)
    service.save_board(store, created)
    loaded = service.load_board(store, "Chase")
    assert board_to_dict(loaded) == board_to_dict(board)
    assert service.load_board(store, created.id).name == "Chase"
    loaded.shots.reverse()
    loaded.shots[0].title = "Now first"
    service.save_board(store, loaded)
    again = service.load_board(store, "Chase")
    assert [s.id for s in again.shots] == [s.id for s in loaded.shots] and again.shots[0].title == "Now first"
    with pytest.raises(UserInputError, match="exists already"):
        service.create_board(store, "Chase")
    with pytest.raises(UserInputError, match="no storyboard of that name"):
        service.load_board(store, "Nope")
    assert [b["name"] for b in service.list_boards(store)] == ["Chase"]


def test_import_copies_pictures_in_and_export_round_trips(store, tmp_path):
    textured_picture(tmp_path / "still.png")
    board = small_board(name="Imported")
    board.base_dir = tmp_path
    board.shots[0].reference_image = "still.png"
    path = save_board_file(board, tmp_path / "in.cinestudio-board.json")
    first = service.import_board(store, path)
    second = service.import_board(store, path)
    assert (first.name, second.name) == ("Imported", "Imported (2)")
    ref = first.shots[0].reference_image
    assert ref.startswith(service.REFS_DIR) and (store.paths.root / ref).is_file()
    out = service.export_board_file(store, "Imported", tmp_path / "out.cinestudio-board.json")
    from cinestudio.storyboard.model import load_board_file

    back = load_board_file(out)
    assert back.resolve_path(back.shots[0].reference_image).is_file()
    assert _strip(board_to_dict(back))["shots"][1:] == _strip(board_to_dict(board))["shots"][1:]
    replaced = service.import_board(store, path, name="Imported", replace=True)
    assert replaced.id == first.id


def test_render_history_keep_and_revert(store):
    board = service.create_board(store, "H", fps=12, width=96, height=64, shots=small_board().shots[2:])
    sid = board.shots[0].id
    first = service.render_shots(store, board, "previz")
    assert first.fresh == {sid}
    again = service.render_shots(store, board, "previz")
    assert again.fresh == set() and again[sid].id == first[sid].id          # cached: no new history entry
    board.shots[0].seed = 42
    service.save_board(store, board)
    second = service.render_shots(store, board, "previz")
    history = store.storyboards.renders(board.id, sid)
    assert [r.id for r in history] == [second[sid].id, first[sid].id]
    assert store.storyboards.active_renders(board.id)[sid].id == second[sid].id
    store.storyboards.set_active(board.id, sid, first[sid].id)                 # revert
    assert store.storyboards.active_renders(board.id)[sid].content_hash == first[sid].content_hash
    store.storyboards.set_kept(second[sid].id)
    assert store.storyboards.prune(board.id, sid, keep_last=0) == 0            # kept and active stay
    clips = service.active_clips(store, board)
    assert clips[0].content_hash == first[sid].content_hash
    # re-saving the board (as the tab does after every edit) keeps the active render
    service.save_board(store, service.load_board(store, "H"))
    assert store.storyboards.active_renders(board.id)[sid].id == first[sid].id


def test_export_needs_every_shot_rendered(store, tmp_path):
    board = service.create_board(store, "E", fps=12, width=96, height=64, shots=small_board().shots)
    service.render_shots(store, board, "previz", shot_ids=[board.shots[2].id])
    with pytest.raises(UserInputError) as err:
        service.export_active(store, board, tmp_path / "x")
    assert err.value.subject == "shots 1, 2" and "not rendered yet" in err.value.reason


def test_demo_workspace_ships_a_board_that_renders_with_previz(store, tmp_path):
    board = ensure_demo_storyboard(store)
    assert board is not None and ensure_demo_storyboard(store) is None       # idempotent
    loaded = service.load_board(store, DEMO_BOARD)
    assert len(loaded.shots) >= 5 and any(s.reference_image for s in loaded.shots)
    loaded.width, loaded.height = 96, 54                                      # keep the test quick
    sidecar = render_board(loaded, "previz", tmp_path / "demo", formats=("json",))
    assert sidecar["total_frames"] == loaded.total_frames()
    judged = [s["motion_agrees"] for s in sidecar["shots"] if s["motion_agrees"] is not None]
    assert judged and all(judged)


def test_cli_workspace_flow(tmp_path):
    from cinestudio.cli import app

    ws = str(tmp_path / "ws")
    run = CliRunner().invoke
    assert run(app, ["-w", ws, "storyboard", "new", "Cut", "--width", "96", "--height", "64"]).exit_code == 0
    res = run(app, ["-w", ws, "storyboard", "add-shot", "Cut", "--framing", "close_up", "--frames", "6"])
    assert res.exit_code == 0, res.output
    res = run(app, ["-w", ws, "storyboard", "add-shot", "Cut", "--movement", "pan_rigth"])
    assert res.exit_code == 2 and "did you mean pan_right?" in res.output
    res = run(app, ["-w", ws, "storyboard", "render", "Cut", "--out", str(tmp_path / "o"), "--json",
                    "--format", "json"])
    assert res.exit_code == 0, res.output
    res = run(app, ["-w", ws, "storyboard", "show", "Cut", "--json"])
    assert '"active_render"' in res.stdout and '"backend": "previz"' in res.stdout


def test_a_deleted_shot_that_comes_back_keeps_its_render(store):
    """Undo of a delete in the tab re-saves the shot with its old id: its last render is in use again."""
    board = service.create_board(store, "U", fps=12, width=96, height=64, shots=small_board().shots[2:])
    sid = board.shots[0].id
    rec = service.render_shots(store, board, "previz")[sid]
    shot = board.shots.pop()
    service.save_board(store, board)
    assert store.storyboards.active_renders(board.id) == {}
    board.shots.append(shot)
    service.save_board(store, board)
    assert store.storyboards.active_renders(board.id)[sid].id == rec.id
