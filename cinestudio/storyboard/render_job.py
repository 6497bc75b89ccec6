"""The ``render`` job kind: one storyboard shot rendered by CameraDiff in a worker process (spec).

Light on purpose (no torch): the CLI and the GUI submit and validate with it; the worker side is
`cinestudio.storyboard.render_job_run` (imports `cinestudio.cameradiff`).

Configuration (built by `job_config`, one job per shot)::

    board          the board without its other shots (board_to_dict: fps, size, scheme, diffusion)
    shot_index     the shot's place in the whole board (for messages)
    content_hash   the render's key in the cache (see `cinestudio.storyboard.plan`)
    cache          the render cache folder (absolute, or relative to the workspace)
    base_dir       where the board's relative paths (base, LoRAs, pictures) start

The worker writes the clip into the cache under `content_hash`, so the submitting side (and any
later render of the same shot) finds it there; ``RUN/shot.json`` is CameraDiff's own sidecar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.jobs.kinds import JobKind, ValidationContext, register
from cinestudio.storyboard.model import Board, board_from_dict, board_to_dict

KIND = "render"
REQUIRED = ("board", "content_hash", "cache")


def job_config(board: Board, index: int, content_hash: str, cache_root: str | Path) -> dict[str, Any]:
    one = board.copy()
    one.shots = [board.shots[index]]
    return {"board": board_to_dict(one), "shot_index": index, "content_hash": content_hash,
            "cache": str(cache_root), "base_dir": str(board.base_dir) if board.base_dir else None}


def board_of(config: dict[str, Any]) -> Board:
    board = board_from_dict(config["board"], base_dir=config.get("base_dir"))
    if len(board.shots) != 1:
        raise UserInputError("board", "a render job renders exactly one shot")
    return board


def validate(config: dict[str, Any], where: ValidationContext) -> dict[str, Any]:
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise UserInputError(missing[0], "missing from the render job's configuration")
    h = str(config["content_hash"])
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise UserInputError("content_hash", "expected a sha256 hex digest")
    board = board_of(config)
    from cinestudio.storyboard.validate import check_board

    check_board(board, backend="diffusion", subject=f"shot {int(config.get('shot_index', 0)) + 1}")
    out = dict(config)
    out.setdefault("shot_index", 0)
    if out.get("base_dir") is None:
        out["base_dir"] = str(where.workspace)
    return out


def describe(config: dict[str, Any]) -> str:
    try:
        shot = config["board"]["shots"][0]
    except (KeyError, IndexError, TypeError):
        return "storyboard shot"
    moves = " → ".join(shot.get("movements", []))
    return (f"shot {int(config.get('shot_index', 0)) + 1} {shot.get('title') or ''} "
            f"[{shot.get('framing')} · {shot.get('angle')} · {moves}]").replace("  ", " ")


RENDER = register(JobKind(name=KIND, title="Storyboard render", device_class="gpu",
                          entry="cinestudio.storyboard.render_job_run:run", validate=validate, describe=describe,
                          resumable=False))
