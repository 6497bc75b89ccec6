"""The storyboard model: a board is an ordered list of shots, each described in cinematic language.

A `Shot` says what the camera does (framing, angle, one or more movements in sequence), for how
long (frames, or seconds at the board's frame rate), what the picture shows (title, prompt, an
optional reference image), how a render is seeded, and which LoRA weights a diffusion render
uses for it. A `Board` holds the shots with the sequence's frame rate, frame size, taxonomy
scheme and diffusion settings.

Boards travel as ``NAME.cinestudio-board.json`` (`board_to_dict` / `board_from_dict`,
`load_board_file` / `save_board_file`; the format is documented in ``docs/storyboard.md``) and
live in the workspace database (`cinestudio.storyboard.service`). Plain data: no Qt, no store.
"""

from __future__ import annotations

import copy
import json
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.fsutil import write_json_atomic

FORMAT = "cinestudio-board"
FORMAT_VERSION = 1
SUFFIX = ".cinestudio-board.json"
DURATION_UNITS = ("frames", "seconds")
BACKENDS = ("previz", "diffusion")

DEFAULT_FPS = 12.0
DEFAULT_WIDTH = 320
DEFAULT_HEIGHT = 180
DEFAULT_SECONDS = 2.0
MAX_MOVEMENTS = 4
MAX_SHOT_FRAMES = 2400     # 100 s at 24 fps: longer is a typo, not a shot

#: Board-level diffusion settings and their defaults (see docs/storyboard.md).
DIFFUSION_DEFAULTS: dict[str, Any] = {
    "base": None,            # pipeline folder (``cinestudio diff make-tiny`` / a trained base) or hub id
    "loras": None,           # folder of class LoRAs (``<class_key>.safetensors``) or {key: path}
    "method": "cliplora",    # composition of several LoRAs: cliplora | merge | switch | composite
    "steps": 20,
    "guidance": 7.5,
    "width": None,           # None: the board's size
    "height": None,
    "frames": None,          # None: the shot's length (the pipeline's own frame count otherwise)
    "device": "auto",
    "cameraclip": None,      # CameraCLIP run used by CLIPLoRA and to score results
    "negative_prompt": "",
}


def new_shot_id() -> str:
    """A short stable identifier for a shot (kept through edits, reorders, export and import)."""
    return "s" + secrets.token_hex(4)


@dataclass
class Shot:
    title: str = ""
    prompt: str = ""
    framing: str = "medium_shot"
    angle: str = "eye_level"
    movements: list[str] = field(default_factory=lambda: ["static"])
    duration: float = DEFAULT_SECONDS
    duration_unit: str = "seconds"          # "frames" or "seconds"
    seed: int = 0
    reference_image: str | None = None      # path; relative paths are resolved from Board.base_dir
    loras: dict[str, float] | None = None   # per-shot LoRA weights {lora name: weight}; None: automatic
    notes: str = ""
    id: str = field(default_factory=new_shot_id)

    def frames(self, fps: float) -> int:
        """The shot's length in frames at `fps` (seconds are rounded to the nearest frame)."""
        if self.duration_unit == "frames":
            return int(round(self.duration))
        return int(round(float(self.duration) * float(fps)))

    def seconds(self, fps: float) -> float:
        return self.frames(fps) / float(fps) if fps else 0.0

    def copy(self, *, new_id: bool = False) -> Shot:
        dup = copy.deepcopy(self)
        if new_id:
            dup.id = new_shot_id()
        return dup

    def type_keys(self) -> list[str]:
        return [self.framing, self.angle, *self.movements]

    def duration_text(self, fps: float) -> str:
        n = self.frames(fps)
        return f"{n / fps:.1f} s · {n} f" if fps else f"{n} f"


@dataclass
class Board:
    name: str = "Untitled board"
    fps: float = DEFAULT_FPS
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    scheme: str = "cinematic2k"
    shots: list[Shot] = field(default_factory=list)
    diffusion: dict[str, Any] = field(default_factory=dict)   # overrides of DIFFUSION_DEFAULTS
    previz: dict[str, Any] = field(default_factory=dict)      # environment, time_of_day
    notes: str = ""
    id: int | None = None            # database id when stored in a workspace
    base_dir: Path | None = None     # where relative reference-image paths start

    @property
    def size(self) -> tuple[int, int]:
        return int(self.width), int(self.height)

    def total_frames(self) -> int:
        return sum(max(0, s.frames(self.fps)) for s in self.shots)

    def shot_ranges(self) -> list[tuple[int, int]]:
        """Each shot's frame range [start, end) in the whole sequence."""
        out, t = [], 0
        for s in self.shots:
            n = max(0, s.frames(self.fps))
            out.append((t, t + n))
            t += n
        return out

    def shot_at(self, frame: int) -> int | None:
        """Index of the shot that sequence frame `frame` belongs to."""
        for i, (a, b) in enumerate(self.shot_ranges()):
            if a <= frame < b:
                return i
        return None

    def index_of(self, shot_id: str) -> int:
        for i, s in enumerate(self.shots):
            if s.id == shot_id:
                return i
        raise KeyError(shot_id)

    def diffusion_settings(self) -> dict[str, Any]:
        return {**DIFFUSION_DEFAULTS, **{k: v for k, v in self.diffusion.items() if v is not None}}

    def resolve_path(self, path: str | None) -> Path | None:
        """A path written in the board, made absolute against `base_dir`."""
        if not path:
            return None
        p = Path(os.path.expanduser(str(path)))
        if not p.is_absolute() and self.base_dir is not None:
            p = Path(self.base_dir) / p
        return p

    def copy(self) -> Board:
        return copy.deepcopy(self)


# --------------------------------------------------------------------------------------------
# JSON

def shot_to_dict(shot: Shot) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": shot.id,
        "title": shot.title,
        "prompt": shot.prompt,
        "framing": shot.framing,
        "angle": shot.angle,
        "movements": list(shot.movements),
        "duration": {shot.duration_unit: (int(round(shot.duration)) if shot.duration_unit == "frames"
                                          else _num(shot.duration))},
        "seed": int(shot.seed),
    }
    if shot.reference_image:
        d["reference_image"] = shot.reference_image
    if shot.loras:
        d["loras"] = {str(k): _num(v) for k, v in shot.loras.items()}
    if shot.notes:
        d["notes"] = shot.notes
    return d


def board_to_dict(board: Board) -> dict[str, Any]:
    d: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": board.name,
        "fps": _num(board.fps),
        "width": int(board.width),
        "height": int(board.height),
        "scheme": board.scheme,
    }
    if board.notes:
        d["notes"] = board.notes
    if board.previz:
        d["previz"] = dict(board.previz)
    if board.diffusion:
        d["diffusion"] = dict(board.diffusion)
    d["shots"] = [shot_to_dict(s) for s in board.shots]
    return d


def _num(v: float) -> float | int:
    f = float(v)
    return int(f) if f.is_integer() else round(f, 6)


def _where(i: int | None, field_name: str) -> str:
    return f"shots[{i}].{field_name}" if i is not None else field_name


def _as_str(value: Any, where: str, *, allow_none: bool = False) -> str | None:
    if value is None:
        if allow_none:
            return None
        return ""
    if not isinstance(value, str):
        raise UserInputError(where, f"expected text, got {type(value).__name__}")
    return value


def _as_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserInputError(where, f"expected a number, got {value!r}")
    return float(value)


def _as_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise UserInputError(where, f"expected a whole number, got {value!r}")
    return int(value)


def _duration(raw: dict, i: int) -> tuple[float, str]:
    """``"duration": {"frames": 24}`` / ``{"seconds": 2}``; shorthands ``"frames": 24``,
    ``"seconds": 2`` or ``"duration": 2`` (seconds) are read too."""
    dur = raw.get("duration", None)
    if isinstance(dur, dict):
        keys = [k for k in dur if k in DURATION_UNITS]
        unknown = [k for k in dur if k not in DURATION_UNITS]
        if unknown or len(keys) != 1:
            raise UserInputError(_where(i, "duration"),
                                 'expected {"frames": N} or {"seconds": S}, got ' + json.dumps(dur))
        unit = keys[0]
        return _as_number(dur[unit], _where(i, f"duration.{unit}")), unit
    if dur is not None:
        return _as_number(dur, _where(i, "duration")), "seconds"
    if "frames" in raw:
        return _as_number(raw["frames"], _where(i, "frames")), "frames"
    if "seconds" in raw:
        return _as_number(raw["seconds"], _where(i, "seconds")), "seconds"
    return DEFAULT_SECONDS, "seconds"


SHOT_KEYS = {"id", "title", "prompt", "framing", "angle", "movements", "movement", "duration", "frames",
             "seconds", "seed", "reference_image", "loras", "notes"}
BOARD_KEYS = {"format", "version", "name", "fps", "width", "height", "size", "scheme", "notes", "previz",
              "diffusion", "shots"}


def shot_from_dict(raw: Any, i: int | None = None) -> Shot:
    if not isinstance(raw, dict):
        raise UserInputError(f"shots[{i}]" if i is not None else "shot", "a shot must be a JSON object")
    unknown = sorted(set(raw) - SHOT_KEYS)
    if unknown:
        raise UserInputError(_where(i, unknown[0]), f"unknown shot field (known: {', '.join(sorted(SHOT_KEYS))})")
    moves = raw.get("movements", raw.get("movement", ["static"]))
    if isinstance(moves, str):
        moves = [moves]
    if not isinstance(moves, list) or not all(isinstance(m, str) for m in moves):
        raise UserInputError(_where(i, "movements"), "expected a list of movement keys")
    duration, unit = _duration(raw, i)
    loras = raw.get("loras")
    if loras is not None:
        if not isinstance(loras, dict):
            raise UserInputError(_where(i, "loras"), 'expected {"lora name": weight, ...}')
        loras = {str(k): _as_number(v, _where(i, f"loras.{k}")) for k, v in loras.items()}
    shot_id = raw.get("id")
    return Shot(
        id=_as_str(shot_id, _where(i, "id")) or new_shot_id(),
        title=_as_str(raw.get("title"), _where(i, "title")) or "",
        prompt=_as_str(raw.get("prompt"), _where(i, "prompt")) or "",
        framing=str(_as_str(raw.get("framing", "medium_shot"), _where(i, "framing"))).strip(),
        angle=str(_as_str(raw.get("angle", "eye_level"), _where(i, "angle"))).strip(),
        movements=[m.strip() for m in moves] or ["static"],
        duration=duration,
        duration_unit=unit,
        seed=_as_int(raw.get("seed", 0), _where(i, "seed")),
        reference_image=_as_str(raw.get("reference_image"), _where(i, "reference_image"), allow_none=True) or None,
        loras=loras or None,
        notes=_as_str(raw.get("notes"), _where(i, "notes")) or "",
    )


def board_from_dict(raw: Any, *, base_dir: str | os.PathLike[str] | None = None,
                    origin: str = "board") -> Board:
    """Parse a board (the JSON format of docs/storyboard.md); structural errors raise
    `UserInputError` naming the field. Class keys, durations and files are checked by
    `cinestudio.storyboard.validate.validate_board`, which lists every problem at once."""
    if not isinstance(raw, dict):
        raise UserInputError(origin, "not a storyboard: expected a JSON object")
    fmt = raw.get("format", FORMAT)
    if fmt != FORMAT:
        raise UserInputError(origin, f"not a storyboard file (format {fmt!r}, expected {FORMAT!r})")
    version = raw.get("version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise UserInputError(origin, f"board format version {version!r} is newer than this CineStudio "
                                     f"reads ({FORMAT_VERSION})")
    unknown = sorted(set(raw) - BOARD_KEYS)
    if unknown:
        raise UserInputError(unknown[0], f"unknown board field (known: {', '.join(sorted(BOARD_KEYS))})")
    width, height = raw.get("width", DEFAULT_WIDTH), raw.get("height", DEFAULT_HEIGHT)
    if "size" in raw:
        size = raw["size"]
        if not (isinstance(size, list) and len(size) == 2):
            raise UserInputError("size", "expected [width, height]")
        width, height = size
    shots_raw = raw.get("shots", [])
    if not isinstance(shots_raw, list):
        raise UserInputError("shots", "expected a list of shots")
    for key in ("previz", "diffusion"):
        if key in raw and not isinstance(raw[key], dict):
            raise UserInputError(key, "expected a JSON object")
    unknown_diff = sorted(set(raw.get("diffusion", {})) - set(DIFFUSION_DEFAULTS))
    if unknown_diff:
        raise UserInputError(f"diffusion.{unknown_diff[0]}",
                             f"unknown diffusion setting (known: {', '.join(DIFFUSION_DEFAULTS)})")
    board = Board(
        name=_as_str(raw.get("name"), "name") or "Untitled board",
        fps=_as_number(raw.get("fps", DEFAULT_FPS), "fps"),
        width=_as_int(width, "width"),
        height=_as_int(height, "height"),
        scheme=_as_str(raw.get("scheme"), "scheme") or "cinematic2k",
        shots=[shot_from_dict(s, i) for i, s in enumerate(shots_raw)],
        diffusion=dict(raw.get("diffusion", {})),
        previz=dict(raw.get("previz", {})),
        notes=_as_str(raw.get("notes"), "notes") or "",
        base_dir=Path(base_dir) if base_dir is not None else None,
    )
    seen: set[str] = set()
    for i, s in enumerate(board.shots):
        if s.id in seen:
            raise UserInputError(_where(i, "id"), f"shot id {s.id!r} appears twice")
        seen.add(s.id)
    return board


def load_board_file(path: str | os.PathLike[str]) -> Board:
    """Read a ``.cinestudio-board.json``; relative reference images are taken from its folder."""
    path = Path(path)
    if not path.exists():
        raise UserInputError(path, "no such file")
    if path.is_dir():
        raise UserInputError(path, "is a folder, not a storyboard file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserInputError(path, "not a text file (a storyboard is JSON)") from None
    except json.JSONDecodeError as exc:
        raise UserInputError(path, f"not valid JSON: {exc}") from None
    try:
        return board_from_dict(raw, base_dir=path.resolve().parent, origin=str(path))
    except UserInputError as exc:
        if exc.subject == str(path):
            raise
        raise UserInputError(path, f"{exc.subject}: {exc.reason}") from None


def save_board_file(board: Board, path: str | os.PathLike[str]) -> Path:
    """Write `board` as JSON (atomically). Reference images are written relative to the file's
    folder when they lie below it, absolute otherwise, so the file still finds them."""
    path = Path(path)
    out = board.copy()
    target_dir = path.resolve().parent
    for shot in out.shots:
        ref = board.resolve_path(shot.reference_image)
        if ref is not None:
            ref = ref.resolve()
            try:
                shot.reference_image = ref.relative_to(target_dir).as_posix()
            except ValueError:
                shot.reference_image = str(ref)
    write_json_atomic(path, board_to_dict(out))
    return path


def default_file_name(board: Board) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in board.name.strip().lower()).strip("-")
    while "--" in safe:
        safe = safe.replace("--", "-")
    return (safe or "board") + SUFFIX
