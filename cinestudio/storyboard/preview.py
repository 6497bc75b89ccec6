"""The animatic preview: the whole board as one clip, rendered shots and slates for the rest.

`build_preview(board, clips, out_dir)` conforms each shot's clip to the board (size, frame
count), puts a slate (shot number, title, types, "not rendered") where a shot has no render yet,
and writes one H.264 file named by the content of the cut, so the same cut is built once. The
Storyboard tab plays it (whole sequence, or one shot's frame range) while the UI thread paints.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import cv2
import numpy as np

from cinestudio.fsutil import prune_oldest
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.storyboard.model import Board, Shot

PREVIEW_VERSION = 1
KEEP_PREVIEWS = 8


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slate(board: Board, shot: Shot, index: int, note: str = "not rendered yet") -> np.ndarray:
    """A card for a shot without a render: its number, title, types and duration."""
    w, h = board.size
    img = np.full((h, w, 3), (34, 36, 42), np.uint8)
    s = h / 180.0
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.rectangle(img, (0, 0), (max(4, int(6 * s)), h), (47, 111, 222), -1)
    cv2.putText(img, str(index + 1), (int(18 * s), int(52 * s)), font, 1.5 * s, (235, 236, 240), max(1, int(3 * s)),
                cv2.LINE_AA)
    lines = [(_ascii(shot.title or f"Shot {index + 1}")[:34], 0.6, (235, 236, 240)),
             (f"{shot.framing.replace('_', ' ')} / {shot.angle.replace('_', ' ')}", 0.45, (180, 190, 215)),
             (" > ".join(m.replace("_", " ") for m in shot.movements), 0.45, (230, 190, 120)),
             (f"{shot.frames(board.fps)} frames  {shot.seconds(board.fps):.1f} s", 0.42, (150, 152, 160)),
             (note, 0.42, (150, 152, 160))]
    y = int(84 * s)
    for text, size, colour in lines:
        cv2.putText(img, text, (int(18 * s), y), font, size * s, colour, 1, cv2.LINE_AA)
        y += int(22 * s)
    return img


def preview_key(board: Board, clips: dict[str, tuple[Path, str] | None]) -> str:
    """A name for the cut: board timing and size, and which render each shot shows."""
    doc = {"v": PREVIEW_VERSION, "fps": board.fps, "size": board.size,
           "shots": [[s.id, s.frames(board.fps), (clips.get(s.id) or (None, None))[1],
                      None if clips.get(s.id) else [s.title, s.framing, s.angle, s.movements]] for s in board.shots]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]


def build_preview(board: Board, clips: dict[str, tuple[Path, str] | None], out_dir: str | Path, *,
                  progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> Path | None:
    """The preview file for `board` with `clips` ({shot id: (clip, content hash)} of the shots
    rendered); None when the board has no frames. Built once per distinct cut."""
    from cinestudio.media.decode import read_frames
    from cinestudio.media.encode import write_mp4
    from cinestudio.storyboard.export import conform

    if board.total_frames() <= 0:
        return None
    out = Path(out_dir)
    target = out / f"preview-{preview_key(board, clips)}.mp4"
    if target.is_file():
        return target

    def frames():
        for i, shot in enumerate(board.shots):
            check_stop(should_stop)
            n = shot.frames(board.fps)
            if n <= 0:
                continue
            entry = clips.get(shot.id)
            block = None
            if entry is not None and Path(entry[0]).is_file():
                try:
                    block = conform(read_frames(entry[0]), n, board.size)
                except Exception:  # a damaged cache file: show the slate instead
                    block = None
            if block is None:
                card = slate(board, shot, i, "not rendered yet" if entry is None else "render missing")
                block = np.broadcast_to(card, (n, *card.shape))
            if progress is not None:
                progress(i + 1, len(board.shots), f"shot {i + 1}")
            yield from block

    out.mkdir(parents=True, exist_ok=True)
    write_mp4(target, frames(), board.fps, crf=16, gop=max(1, int(round(board.fps))))
    prune_oldest(out, "preview-*.mp4", KEEP_PREVIEWS)
    return target
