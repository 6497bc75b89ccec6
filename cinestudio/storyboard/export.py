"""Export of a rendered board: one clip per shot, the sequence (MP4 + GIF), a contact sheet, JSON.

`export_board(board, clips, out_dir, formats=...)` takes one rendered clip per shot (a cached
render, or any clip of the shot's render history) and writes into `out_dir`::

    shots/01-<shot id>.mp4        each shot's clip as rendered        (format "clips")
    sequence.mp4                  the whole cut, H.264                (format "mp4")
    sequence.gif                  the whole cut, looping GIF          (format "gif")
    contact-sheet.png             a row per shot: first / middle / last frame and its types
    render.json                   the sidecar (see docs/storyboard.md)   (format "json")
    board.cinestudio-board.json   the board itself, to render it again   (format "json")

The sequence is conformed to the board: each clip scaled to the board's size and retimed to the
shot's frame count (a previz clip already is both). Every file is written atomically.
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cinestudio.fsutil import atomic_path, write_json_atomic
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.storyboard import motioncheck
from cinestudio.storyboard.model import Board, Shot, save_board_file

FORMATS = ("clips", "mp4", "gif", "contact", "json")
SIDECAR_FORMAT = "cinestudio-render"
SIDECAR_VERSION = 1
GIF_MAX_SIDE = 480

Scorer = Callable[[np.ndarray, Shot], "dict[str, Any] | None"]


@dataclass
class ShotClip:
    """One shot's rendered clip, as handed to the export."""

    index: int
    shot: Shot
    clip: Path
    content_hash: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    cached: bool = False          # True: taken from the cache, not rendered by this run


def conform(frames: np.ndarray, n: int, size: tuple[int, int]) -> np.ndarray:
    """`frames` retimed to `n` frames (nearest in time) and scaled to `size` (width, height)."""
    frames = np.asarray(frames)
    if len(frames) != n:
        idx = np.clip(np.floor((np.arange(n) + 0.5) * len(frames) / n).astype(int), 0, len(frames) - 1)
        frames = frames[idx]
    w, h = size
    if frames.shape[2] != w or frames.shape[1] != h:
        interp = cv2.INTER_AREA if frames.shape[2] > w else cv2.INTER_LINEAR
        frames = np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])
    return frames


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _label(key: str) -> str:
    return key.replace("_", " ")


def contact_sheet(board: Board, shots: list[tuple[ShotClip, np.ndarray]], thumb_w: int = 224) -> np.ndarray:
    """A PNG-ready RGB image: a title bar, then one row per shot (label panel + 3 frames)."""
    aspect = board.height / board.width
    tw, th = thumb_w, max(16, int(round(thumb_w * aspect)))
    pad, label_w, title_h = 12, 300, 56
    width = pad + label_w + 3 * (tw + pad)
    row_h = th + pad
    height = title_h + max(1, len(shots)) * row_h + pad
    img = np.full((height, width, 3), (28, 29, 33), np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    total = board.total_frames()
    cv2.putText(img, _ascii(board.name)[:60], (pad, 30), font, 0.75, (240, 240, 244), 1, cv2.LINE_AA)
    sub = (f"{len(board.shots)} shots  |  {total} frames  |  {total / board.fps:.1f} s at {board.fps:g} fps  |  "
           f"{board.width}x{board.height}")
    cv2.putText(img, sub, (pad, 48), font, 0.42, (160, 162, 170), 1, cv2.LINE_AA)
    for r, (sc, frames) in enumerate(shots):
        y = title_h + r * row_h
        cv2.rectangle(img, (pad, y), (pad + label_w - pad, y + th), (40, 42, 48), -1)
        cv2.rectangle(img, (pad, y), (pad + 34, y + th), (47, 111, 222), -1)
        num = str(sc.index + 1)
        (nw, nh), _ = cv2.getTextSize(num, font, 0.7, 2)
        cv2.putText(img, num, (pad + 17 - nw // 2, y + th // 2 + nh // 2), font, 0.7, (255, 255, 255), 2,
                    cv2.LINE_AA)
        x = pad + 44
        shot = sc.shot
        lines = [
            (_ascii(shot.title or f"Shot {sc.index + 1}")[:30], 0.55, (240, 240, 244), 1),
            (f"{_label(shot.framing)} / {_label(shot.angle)}", 0.42, (190, 200, 220), 1),
            (" > ".join(_label(m) for m in shot.movements), 0.42, (230, 190, 120), 1),
            (f"{shot.frames(board.fps)} f  {shot.seconds(board.fps):.1f} s  seed {shot.seed}", 0.4,
             (150, 152, 160), 1),
        ]
        ly = y + 22
        for text, scale, colour, thick in lines:
            cv2.putText(img, text, (x, ly), font, scale, colour, thick, cv2.LINE_AA)
            ly += 20 if scale < 0.5 else 24
        n = len(frames)
        for c, fi in enumerate((0, n // 2, n - 1)):
            fx = pad + label_w + c * (tw + pad)
            small = cv2.resize(frames[fi], (tw, th), interpolation=cv2.INTER_AREA)
            img[y:y + th, fx:fx + tw] = small
            cv2.putText(img, f"{fi}", (fx + 4, y + th - 6), font, 0.35, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def write_png(path: Path, rgb: np.ndarray) -> Path:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return path


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def export_board(board: Board, clips: list[ShotClip], out_dir: str | Path, *,
                 formats: Iterable[str] = FORMATS, backend: str = "previz",
                 scorer: Scorer | None = None, check_motion: bool = True,
                 extra: dict[str, Any] | None = None,
                 progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> dict[str, Any]:
    """Write the chosen `formats` for `clips` (one per shot, in board order) into `out_dir`;
    return the sidecar document (also written as render.json with the "json" format)."""
    from cinestudio.media.decode import read_frames
    from cinestudio.media.encode import write_gif, write_mp4

    formats = set(formats)
    unknown = formats - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export formats {sorted(unknown)} (known: {', '.join(FORMATS)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda d, t, m="": None)
    steps = len(clips) + sum(f in formats for f in ("mp4", "gif", "contact", "json"))
    done = 0
    t0 = time.monotonic()
    ranges = board.shot_ranges()
    per_shot: list[tuple[ShotClip, np.ndarray]] = []
    entries = []
    for sc in clips:
        check_stop(should_stop)
        n = sc.shot.frames(board.fps)
        raw = read_frames(sc.clip)
        frames = conform(raw, n, board.size)
        per_shot.append((sc, frames))
        entry: dict[str, Any] = {
            "index": sc.index, "id": sc.shot.id, "title": sc.shot.title, "prompt": sc.shot.prompt,
            "framing": sc.shot.framing, "angle": sc.shot.angle, "movements": list(sc.shot.movements),
            "frames": n, "start_frame": ranges[sc.index][0], "end_frame": ranges[sc.index][1],
            "seconds": round(n / board.fps, 4), "backend": sc.details.get("backend", backend),
            "seed": int(sc.details.get("seed", sc.shot.seed)), "content_hash": sc.content_hash,
            "cached": sc.cached, "rendered_size": [int(raw.shape[2]), int(raw.shape[1])],
            "rendered_frames": int(len(raw)),
            "loras": sc.details.get("loras", sc.shot.loras or {}),
            "lora_schedule": sc.details.get("lora_schedule"),
            "method": sc.details.get("method"),
            "reference_image": sc.shot.reference_image,
        }
        if "clips" in formats:
            target = out / "shots" / f"{sc.index + 1:02d}-{sc.shot.id}.mp4"
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                shutil.copyfile(sc.clip, tmp)
            entry["clip"] = _rel(target, out)
        if check_motion:
            measured = motioncheck.measure(frames, board.fps)
            entry["measured_motion"] = measured
            entry["motion_agrees"] = motioncheck.agrees(list(sc.shot.movements), measured)
        entry["cameraclip"] = (scorer(frames, sc.shot) if scorer is not None
                               else sc.details.get("cameraclip_scores"))
        if sc.details.get("notes"):
            entry["notes"] = list(sc.details["notes"])
        entries.append(entry)
        done += 1
        report(done, steps, f"shot {sc.index + 1}")
    sequence = np.concatenate([f for _, f in per_shot]) if per_shot else np.zeros((0,))
    outputs: dict[str, str] = {}
    if "mp4" in formats and len(sequence):
        check_stop(should_stop)
        outputs["mp4"] = _rel(write_mp4(out / "sequence.mp4", sequence, board.fps, crf=18), out)
        done += 1
        report(done, steps, "sequence.mp4")
    if "gif" in formats and len(sequence):
        check_stop(should_stop)
        outputs["gif"] = _rel(write_gif(out / "sequence.gif", sequence, board.fps, max_size=GIF_MAX_SIDE), out)
        done += 1
        report(done, steps, "sequence.gif")
    if "contact" in formats and per_shot:
        check_stop(should_stop)
        outputs["contact_sheet"] = _rel(write_png(out / "contact-sheet.png", contact_sheet(board, per_shot)), out)
        done += 1
        report(done, steps, "contact sheet")
    sidecar: dict[str, Any] = {
        "format": SIDECAR_FORMAT, "version": SIDECAR_VERSION, "board": board.name, "backend": backend,
        "fps": board.fps, "size": [board.width, board.height], "total_frames": int(len(sequence)),
        "seconds": round(len(sequence) / board.fps, 4) if board.fps else 0.0,
        "outputs": outputs, "shots": entries,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "export_seconds": round(time.monotonic() - t0, 3),
        **(extra or {}),
    }
    if "json" in formats:
        check_stop(should_stop)
        save_board_file(board, out / "board.cinestudio-board.json")
        outputs["board"] = "board.cinestudio-board.json"
        outputs["sidecar"] = "render.json"
        write_json_atomic(out / "render.json", sidecar)
        done += 1
        report(done, steps, "render.json")
    return sidecar
