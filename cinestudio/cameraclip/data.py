"""Labelled clips for CameraCLIP: one loader for simulator output and export manifests, a frame cache.

Accepted inputs (`load_items`):
- a simulator output folder (its ``labels.jsonl``) or that file;
- an export manifest (JSON lines; any ``.jsonl``/``.json`` file, or a folder with ``manifest.jsonl``).
Each line has ``file`` (relative to the manifest's folder, or absolute), optional ``framing``,
``angle``, ``movement`` (a key, a list of keys, or null), ``caption``, ``split`` and a frame
range ``start``/``end``. Keys are checked against the taxonomy. ``"labels_hold": "every_frame"``
(or the simulator's per-frame camera ``trajectory``, whose framing and angle it checks on each
frame) says that framing and angle are true on every frame, which allows time reversal of clips
whose movement changes what the first frame shows.

`FrameCache` samples each clip's frames once (uniformly, by seeking), fits them to the model's size
and stores them with their raw motion features as ``.npz`` files, so
epochs, resumed runs and evaluations do not decode again.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cinestudio.cameraclip import features
from cinestudio.errors import MediaError, UserInputError
from cinestudio.fsutil import atomic_path
from cinestudio.progress import ProgressFn, StopFn, check_stop
from cinestudio.taxonomy import AXES, Taxonomy, load_taxonomy

MANIFEST_NAMES = ("labels.jsonl", "manifest.jsonl")
VAL_SPLITS = ("val", "valid", "validation", "test")


@dataclass(frozen=True)
class ClipItem:
    path: Path
    labels: dict[str, tuple[str, ...]] = field(hash=False)
    caption: str | None = None
    split: str | None = None
    start: int = 0
    end: int | None = None
    labels_hold: bool = False  # framing/angle true on every frame, not only overall

    @property
    def key(self) -> str:
        return f"{self.path.name}[{self.start}:{self.end}]"


def resolve_manifest(data: str | os.PathLike[str]) -> Path:
    path = Path(data)
    if path.is_dir():
        for name in MANIFEST_NAMES:
            if (path / name).is_file():
                return path / name
        raise UserInputError(path, f"no {' or '.join(MANIFEST_NAMES)} in this folder")
    if not path.exists():
        raise UserInputError(path, "no such file or folder")
    if path.stat().st_size == 0:
        raise UserInputError(path, "empty manifest")
    return path


def _labels(entry: dict, tax: Taxonomy, where: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for axis in AXES:
        value = entry.get(axis)
        if value in (None, "", "unknown", []):
            out[axis] = ()
            continue
        keys = (value,) if isinstance(value, str) else tuple(value)
        for key in keys:
            if key not in tax.keys(axis):
                raise UserInputError(where, f"unknown {axis} class {key!r} in scheme {tax.scheme!r}")
        out[axis] = tuple(str(k) for k in keys)
    return out


def load_items(data: str | os.PathLike[str], taxonomy: Taxonomy | None = None) -> list[ClipItem]:
    """Read a simulator ``labels.jsonl`` or an export manifest into `ClipItem`s."""
    tax = taxonomy or load_taxonomy()
    manifest = resolve_manifest(data)
    base = manifest.parent
    items: list[ClipItem] = []
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(manifest, "not a UTF-8 JSON-lines manifest") from None
    lines = text.splitlines()
    if manifest.suffix == ".json" and text.lstrip().startswith("["):
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserInputError(manifest, f"not valid JSON: {exc}") from None
        lines = [json.dumps(e) for e in entries]
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{manifest}:{lineno}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserInputError(where, f"not valid JSON: {exc.msg}") from None
        if not isinstance(entry, dict) or not entry.get("file"):
            raise UserInputError(where, "each line needs an object with a 'file'")
        path = Path(entry["file"])
        path = path if path.is_absolute() else base / path
        end = entry.get("end")
        items.append(ClipItem(path=path, labels=_labels(entry, tax, where),
                              caption=entry.get("caption") or None, split=entry.get("split") or None,
                              start=int(entry.get("start") or 0), end=None if end is None else int(end),
                              labels_hold=entry.get("labels_hold") == "every_frame" or "trajectory" in entry))
    if not items:
        raise UserInputError(manifest, "no clips listed")
    return items


def write_manifest(sources: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str],
                   taxonomy: Taxonomy | None = None) -> int:
    """Combine simulator outputs and manifests into one JSON-lines manifest at `out` (the format
    `load_items` reads), so one training run can use several data sets. Clip paths are written
    relative to `out`'s folder; a clip listed twice (same file and range) is kept once; each
    source is checked whole before anything is written, and `out` is written atomically.
    Returns the number of clips written."""
    out = Path(out)
    folder = out.resolve().parent
    seen: set[tuple[Path, int, int | None]] = set()
    lines: list[str] = []
    for source in sources:
        for item in load_items(source, taxonomy):
            clip = item.path.resolve()
            if (clip, item.start, item.end) in seen:
                continue
            seen.add((clip, item.start, item.end))
            try:
                file = os.path.relpath(clip, folder)
            except ValueError:   # another drive (Windows): no relative path exists
                file = str(clip)
            entry: dict = {"file": Path(file).as_posix()}
            for axis in AXES:
                keys = item.labels.get(axis, ())
                entry[axis] = (keys[0] if len(keys) == 1 else list(keys)) if keys else None
            if item.caption:
                entry["caption"] = item.caption
            if item.split:
                entry["split"] = item.split
            if item.start or item.end is not None:
                entry["start"], entry["end"] = item.start, item.end
            if item.labels_hold:
                entry["labels_hold"] = "every_frame"
            lines.append(json.dumps(entry, ensure_ascii=False))
    if not lines:
        raise UserInputError(out, "no clips to write")
    with atomic_path(out) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def split_items(items: list[ClipItem], val_fraction: float = 0.1) -> tuple[list[ClipItem], list[ClipItem]]:
    """Train/validation split: the manifest's ``split`` when given, else a stable hash of the name."""
    if any(it.split for it in items):
        val = [it for it in items if (it.split or "").lower() in VAL_SPLITS]
        train = [it for it in items if (it.split or "train").lower() not in VAL_SPLITS]
        return train, val
    if val_fraction <= 0:
        return list(items), []
    threshold = int(val_fraction * 1000)
    val = [it for it in items if zlib.crc32(it.key.encode()) % 1000 < threshold]
    train = [it for it in items if zlib.crc32(it.key.encode()) % 1000 >= threshold]
    return train, val


# ---- frames -------------------------------------------------------------------------------------
def sample_clip(item: ClipItem, num_frames: int) -> np.ndarray:
    """Uniformly sampled frames of a clip (seeking), ``(T, H, W, 3)`` uint8."""
    from cinestudio.media.sampling import sample_frames

    if not item.path.is_file():
        raise MediaError(item.path, "no such file")
    return np.asarray(sample_frames(item.path, n=num_frames, start=item.start, end=item.end))


def clip_arrays(frames: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames fitted to `size` and their raw motion ``(T-1, RAW_DIM)`` (variants: `augment.variant_motion`)."""
    fitted = features.fit_frames(frames, size)
    return fitted, features.raw_motion(fitted)


class FrameCache:
    """Per-clip ``.npz`` files (frames at model size + raw motion) in a folder."""

    VERSION = 5

    def __init__(self, folder: str | os.PathLike[str] | None, num_frames: int, size: int):
        self.folder = Path(folder) if folder is not None else None
        self.num_frames = num_frames
        self.size = size

    def _name(self, item: ClipItem) -> str:
        try:
            st = item.path.stat()
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        key = (f"{self.VERSION}|{features.fingerprint()}|{item.path.resolve()}|{stamp}|{item.start}|{item.end}|"
               f"{self.num_frames}|{self.size}")
        return hashlib.sha1(key.encode("utf-8")).hexdigest() + ".npz"

    def get(self, item: ClipItem) -> tuple[np.ndarray, np.ndarray]:
        path = self.folder / self._name(item) if self.folder is not None else None
        if path is not None and path.is_file():
            try:
                with np.load(path) as z:
                    return z["frames"], z["motion"]
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache entry is rebuilt
        frames, motion = clip_arrays(sample_clip(item, self.num_frames), self.size)
        if path is not None:
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, frames=frames, motion=motion)
        return frames, motion


@dataclass
class ClipTable:
    """Clips held in memory: frames ``(N, T, S, S, 3)`` uint8, raw motion ``(N, T-1, RAW_DIM)``
    (`features.encode_motion` makes model inputs; `augment.variant_motion` flips/reverses it)."""

    items: list[ClipItem]
    frames: np.ndarray
    motion: np.ndarray

    def __len__(self) -> int:
        return len(self.items)


def _in_order(items: list, fetch, workers: int) -> Iterator:
    """`fetch(item)` for each item, in order; with `workers` > 1, up to 2 × `workers` items are
    fetched ahead on worker threads. Closing the generator cancels what has not started."""
    if workers <= 1 or len(items) <= 1:
        yield from map(fetch, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    ahead = 2 * workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = [pool.submit(fetch, item) for item in items[:ahead]]
        try:
            for i in range(len(items)):
                result = pending.pop(0).result()
                if i + ahead < len(items):
                    pending.append(pool.submit(fetch, items[i + ahead]))
                yield result
        finally:
            for future in pending:
                future.cancel()


def load_table(items: Iterable[ClipItem], cache: FrameCache, progress: ProgressFn | None = None,
               should_stop: StopFn | None = None, what: str = "frames", workers: int = 1) -> ClipTable:
    """Frames and raw motion of `items`, from the cache or computed (by `workers` threads: decoding
    and optical flow release the GIL, so uncached clips go ~`workers`× faster)."""
    items = list(items)
    frames, motion = [], []
    fetched = _in_order(items, cache.get, workers)
    try:
        for i in range(len(items)):
            check_stop(should_stop)
            f, m = next(fetched)
            frames.append(f)
            motion.append(m)
            if progress is not None:
                progress(i + 1, len(items), what)
    finally:
        fetched.close()   # a stop: the clips fetched ahead are dropped
    if not items:
        t, s = cache.num_frames, cache.size
        return ClipTable([], np.zeros((0, t, s, s, 3), np.uint8),
                         np.zeros((0, t - 1, features.RAW_DIM), np.float32))
    return ClipTable(items, np.stack(frames), np.stack(motion))
