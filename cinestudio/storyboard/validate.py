"""Checking a board before it is rendered: every problem at once, each with a clear message.

`validate_board(board)` returns a list of `Issue` (empty: the board renders); `check_board`
raises one `UserInputError` listing them. Messages name the shot by number and title and say
what to do, e.g.::

    shot 2 "Low dolly": movement 'dolly_inn' is not a class of cinematic2k (did you mean dolly_in?)
    shot 3 "Close-up": duration is 0 frames (0.02 s at 12 fps); a shot needs at least one frame
    shot 1 "Street": reference image not found: refs/street.png
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from cinestudio.errors import UserInputError
from cinestudio.storyboard.model import (BACKENDS, DURATION_UNITS, MAX_MOVEMENTS, MAX_SHOT_FRAMES,
                                         Board, Shot)
from cinestudio.taxonomy import Taxonomy, load_taxonomy

#: A Hugging Face hub id (owner/name), as `cinestudio.cameradiff.backend.HUB_ID` (not imported: no torch here).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
COMPOSITION_METHODS = ("cliplora", "merge", "switch", "composite")


@dataclass(frozen=True)
class Issue:
    shot: int | None          # 0-based index, None for board-level problems
    field: str                # "framing", "angle", "movements", "duration", "reference_image", ...
    message: str              # the full sentence shown to people
    severity: str = "error"   # "error" (cannot render) or "warning"

    def to_dict(self) -> dict:
        return {"shot": self.shot, "field": self.field, "message": self.message, "severity": self.severity}


def shot_label(index: int, shot: Shot) -> str:
    return f'shot {index + 1}' + (f' "{shot.title}"' if shot.title else "")


def _unknown(key: str, axis: str, tax: Taxonomy) -> str:
    close = difflib.get_close_matches(key, tax.keys(axis), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(tax.keys(axis))})"
    if not close:
        for other in ("framing", "angle", "movement"):
            if other != axis and key in tax.keys(other):
                hint = f" — it is a{'n' if other[0] in 'aeiou' else ''} {other} class"
    return f"{axis} {key!r} is not a class of {tax.scheme}{hint}"


def validate_shot(index: int, shot: Shot, board: Board, tax: Taxonomy, *,
                  check_files: bool = True) -> list[Issue]:
    out: list[Issue] = []
    who = shot_label(index, shot)

    def add(field: str, message: str, severity: str = "error") -> None:
        out.append(Issue(index, field, f"{who}: {message}", severity))

    if shot.framing not in tax.keys("framing"):
        add("framing", _unknown(shot.framing, "framing", tax) if shot.framing else "no framing chosen")
    if shot.angle not in tax.keys("angle"):
        add("angle", _unknown(shot.angle, "angle", tax) if shot.angle else "no angle chosen")
    moves = list(shot.movements)
    if not moves:
        add("movements", "no movement chosen (use static for a still camera)")
    for m in moves:
        if m not in tax.keys("movement"):
            add("movements", _unknown(m, "movement", tax))
    if "static" in moves and len(moves) > 1:
        add("movements", "static cannot be combined with other movements")
    if len(moves) > MAX_MOVEMENTS:
        add("movements", f"{len(moves)} movements in one shot; at most {MAX_MOVEMENTS} in sequence")
    for a, b in zip(moves, moves[1:]):
        if a == b:
            add("movements", f"{a} is listed twice in a row (give it once)")
    if shot.duration_unit not in DURATION_UNITS:
        add("duration", f"duration unit {shot.duration_unit!r} must be frames or seconds")
    else:
        n = shot.frames(board.fps)
        if shot.duration <= 0 or n < 1:
            shown = (f"{shot.duration:g} frames" if shot.duration_unit == "frames"
                     else f"{shot.duration:g} s = {n} frames at {board.fps:g} fps")
            add("duration", f"duration is {shown}; a shot needs at least one frame")
        elif n > MAX_SHOT_FRAMES:
            add("duration", f"duration is {n} frames; at most {MAX_SHOT_FRAMES} per shot")
        elif shot.duration_unit == "frames" and abs(shot.duration - round(shot.duration)) > 1e-9:
            add("duration", f"{shot.duration:g} frames is not a whole number of frames")
        elif n < 3 and any(m != "static" for m in moves):
            add("duration", f"only {n} frame{'s' if n != 1 else ''}: too short to show a camera move",
                "warning")
    if not (0 <= int(shot.seed) < 2 ** 32):
        add("seed", f"seed {shot.seed} must be between 0 and {2 ** 32 - 1}")
    if shot.reference_image and check_files:
        path = board.resolve_path(shot.reference_image)
        if path is None or not path.is_file():
            add("reference_image", f"reference image not found: {shot.reference_image}"
                + (f" (looked for {path})" if path is not None and str(path) != shot.reference_image else ""))
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            add("reference_image", f"reference image {shot.reference_image} is not a picture "
                f"({', '.join(IMAGE_SUFFIXES)})")
    if shot.loras:
        for name, weight in shot.loras.items():
            if not name:
                add("loras", "a LoRA weight has no LoRA name")
            elif not (-4.0 <= float(weight) <= 4.0):
                add("loras", f"LoRA {name} weight {weight:g} is outside -4 … 4")
    return out


def validate_board(board: Board, taxonomy: Taxonomy | None = None, *, backend: str | None = None,
                   check_files: bool = True) -> list[Issue]:
    """Every problem of `board` (and, with `backend`, of rendering it that way)."""
    out: list[Issue] = []
    try:
        tax = taxonomy or load_taxonomy(board.scheme)
    except UserInputError as exc:
        return [Issue(None, "scheme", f"board: taxonomy scheme {board.scheme!r}: {exc.reason}")]
    if not (board.fps and 0 < board.fps <= 240):
        out.append(Issue(None, "fps", f"board: frame rate {board.fps:g} must be between 0 and 240 fps"))
        return out
    if not (16 <= board.width <= 4096 and 16 <= board.height <= 4096):
        out.append(Issue(None, "size", f"board: frame size {board.width}x{board.height} must be between "
                                       "16 and 4096 pixels a side"))
    if not board.shots:
        out.append(Issue(None, "shots", "board: no shots yet (add one)"))
    ids: set[str] = set()
    for i, shot in enumerate(board.shots):
        if shot.id in ids:
            out.append(Issue(i, "id", f"{shot_label(i, shot)}: shot id {shot.id} appears twice"))
        ids.add(shot.id)
        out += validate_shot(i, shot, board, tax, check_files=check_files)
    if backend is not None:
        if backend not in BACKENDS:
            out.append(Issue(None, "backend", f"backend {backend!r}: expected {' or '.join(BACKENDS)}"))
        elif backend == "diffusion":
            out += _diffusion_issues(board, check_files)
    return out


def _diffusion_issues(board: Board, check_files: bool) -> list[Issue]:
    out: list[Issue] = []
    ds = board.diffusion_settings()
    if not ds.get("base"):
        out.append(Issue(None, "diffusion.base", "board: diffusion needs a base pipeline (set diffusion.base, "
                                                 "e.g. a folder made by `cinestudio diff make-tiny`)"))
    elif check_files:
        p = board.resolve_path(ds["base"])
        if (p is None or not p.is_dir()) and not HUB_ID.match(str(ds["base"])):
            out.append(Issue(None, "diffusion.base", f"board: diffusion base folder not found: {ds['base']}"))
    if ds.get("method") not in COMPOSITION_METHODS:
        out.append(Issue(None, "diffusion.method", f"board: composition method {ds.get('method')!r} "
                                                   f"(expected {', '.join(COMPOSITION_METHODS)})"))
    for key in ("steps",):
        v = ds.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 500:
            out.append(Issue(None, f"diffusion.{key}", f"board: diffusion {key} {v!r} must be 1 … 500"))
    return out


def errors_only(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def check_board(board: Board, taxonomy: Taxonomy | None = None, *, backend: str | None = None,
                subject: str | None = None) -> list[Issue]:
    """Raise `UserInputError` listing every error; return the warnings."""
    issues = validate_board(board, taxonomy, backend=backend)
    errors = errors_only(issues)
    if errors:
        text = errors[0].message if len(errors) == 1 else (
            f"{len(errors)} problems: " + "; ".join(e.message for e in errors))
        raise UserInputError(subject or f"board {board.name!r}", text)
    return [i for i in issues if i.severity != "error"]
