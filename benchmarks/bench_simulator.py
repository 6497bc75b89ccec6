"""Camera simulator throughput: clips per second of 16 frames at 128×128 on one core.

Renders clips the way `simulate_dataset` draws them (every framing, angle and movement of the
scheme in turn, a new seeded scene per clip) and reports clips/s, against the goal baseline
"10 clips/s". The figure counts rendering (scene building included), not MP4 encoding; pass
``--encode`` to include H.264 encoding too.

    OMP_NUM_THREADS=1 python benchmarks/bench_simulator.py [--clips 40] [--size 128] [--frames 16]

Both wall-clock and process CPU time are reported; on a shared machine the CPU-time figure is the
one to compare (other processes steal wall-clock time, not CPU time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_NAME = "10 clips/s"
GOAL = 10.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--scheme", default="cinematic2k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--encode", action="store_true", help="also encode each clip to H.264 MP4")
    args = ap.parse_args(argv)

    import cv2

    cv2.setNumThreads(args.threads)
    from cinestudio.camerasim.dataset import plan_dataset
    from cinestudio.camerasim.shot import ShotSpec, render_shot

    items = plan_dataset(max(1, -(-args.clips // 20)), args.seed, args.scheme)[: args.clips]
    specs = [ShotSpec(it.framing, it.angle, [it.movement], frames=args.frames, size=args.size, fps=8,
                      seed=it.seed) for it in items]
    render_shot(ShotSpec(frames=2, size=args.size, seed=12345))  # warm-up (imports, caches)
    tmp = tempfile.TemporaryDirectory() if args.encode else None
    if args.encode:
        from cinestudio.media.encode import write_mp4
    w0, c0 = time.perf_counter(), time.process_time()
    for i, spec in enumerate(specs):
        shot = render_shot(spec)
        if tmp is not None:
            write_mp4(Path(tmp.name) / f"{i}.mp4", shot.frames, 8)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = len(specs)
    rate_cpu, rate_wall = n / cpu, n / wall
    what = "render+encode" if args.encode else "render"
    print(f"camera simulator ({what}): {n} clips of {args.frames}x{args.size}x{args.size}, "
          f"{args.threads} thread(s)")
    print(f"  wall: {wall:.2f} s = {rate_wall:.1f} clips/s")
    print(f"  cpu:  {cpu:.2f} s = {rate_cpu:.1f} clips/s")
    print(f"ratio vs goal baseline \"{GOAL_NAME}\": {rate_cpu / GOAL:.2f}x (cpu), {rate_wall / GOAL:.2f}x (wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
