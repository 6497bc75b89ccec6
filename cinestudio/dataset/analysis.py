"""One decoding pass over a video: shots, per-shot camera motion, thumbnails and a fingerprint.

Importing must not cost several decodes of every file, so `analyse_video` decodes once, at the
shot detector's size (`SHOT_SIDE`), with the thumbnail and motion sizes scaled straight from
the same decoded picture for the frames that need them (`decode.iter_analysis_views`: on a
background thread, deblocking skipped), and feeds every frame to the work below. Three threads
share it: decoding (and scaling, below HD), the motion worker (motion, thumbnail JPEGs) and the
caller's (shots); PyAV and OpenCV release the GIL, so on two cores they overlap; OpenCV's own
thread pool is off meanwhile (`media.cvthreads`: its spinning workers would take the cores from
ours). The work:

- the shot detector (`cinestudio.media.shots.cuts_in_frames`, the same detector and tuning as
  `cinestudio shots`);
- the motion estimator (`cinestudio.media.motion`): bursts of `BURST` consecutive grey frames at
  `MOTION_SIDE`, one burst every `motion_period(fps)` frames (about `MOTION_RATE` pairs per
  second; every frame at low frame rates), go through `global_motion` on a worker thread as each
  burst completes, so memory stays bounded however long the video. Each shot's pairs (none
  straddles a cut) are then classified with `classify_pairs`; a shot too short to hold a burst
  is decoded again on its own;
- thumbnails: a small JPEG every few frames (encoded on the worker thread); each shot gets the
  one nearest its middle;
- the fingerprint (`cinestudio.dataset.fingerprint`): the frames at the uniformly spaced indices.

No database here: the result is a plain `VideoAnalysis`, which the import use-case stores.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from cinestudio.dataset import fingerprint as fp
from cinestudio.errors import MediaError
from cinestudio.media.cvthreads import single_threaded_opencv
from cinestudio.media.decode import iter_analysis_views, read_frames
from cinestudio.media.motion import classify_motion, classify_pairs, global_motion
from cinestudio.media.probe import VideoInfo, probe
from cinestudio.media.sampling import sample_frames, uniform_indices
from cinestudio.media.shots import DEFAULT_TUNING as SHOTS_TUNING
from cinestudio.media.shots import cuts_in_frames, shots_from_cuts
from cinestudio.progress import Cancelled, ProgressFn, StopFn

FINGERPRINT_SIDE = 160   # fingerprint frames (longest side, px)
SHOT_SIDE = SHOTS_TUNING["max_side"]   # every frame, for the shot detector: its own size, as
                                       # `cinestudio shots` decodes (scaling a larger frame down
                                       # again cost a sixth of the pass at 640x360)
MOTION_SIDE = 96         # motion estimation size (longest side): on 65 real-photo move shots 96 px
                         # read 54 right and 128 px 53, for ~40 % less optical-flow CPU
MOTION_RATE = 5.0        # motion bursts: about this many frame pairs analysed per second (8 read
                         # no more shots right than 5 on 65 real-photo moves, for 1.2x the CPU)
BURST = 5                # consecutive frames per burst (4 pairs; parallax over the burst)
THUMB_SIDE = 160         # thumbnails: longest side, px
THUMB_QUALITY = 85
THUMB_VIEW = (THUMB_SIDE, "bgr24")
FINGERPRINT_VIEW = (FINGERPRINT_SIDE, "bgr24")
MOTION_VIEW = (MOTION_SIDE, "gray")
DEFAULT_MIN_FRAMES = 8   # shots shorter than this are skipped (CameraCLIP samples 8 frames)


@dataclass(frozen=True)
class ShotAnalysis:
    """One kept shot ``[start, end)``: its thumbnail (JPEG bytes) and motion report."""

    start: int
    end: int
    thumbnail_jpeg: bytes | None = field(default=None, repr=False)
    motion: dict[str, Any] | None = None   # {"dominant": [...], "segments": [...], "pairs": n}

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class VideoAnalysis:
    """What one pass found in a video. `frames` counts the frames that decoded."""

    path: str
    info: VideoInfo
    frames: int
    fps: float
    cuts: list[int]
    shots: list[ShotAnalysis]           # kept shots (long enough), in order
    skipped: list[dict[str, Any]]       # [{"start", "end", "reason"}] shots left out
    fingerprint: str | None
    motion_period: int

    def summary(self) -> dict[str, Any]:
        return {"path": self.path, "frames": self.frames, "fps": self.fps, "cuts": list(self.cuts),
                "shots": [{"start": s.start, "end": s.end,
                           "movement": (s.motion or {}).get("dominant")} for s in self.shots],
                "skipped": list(self.skipped)}


# ----------------------------------------------------------------------------------------------
# Motion samples in bounded windows

class _MotionSampler:
    """Bursts of `BURST` consecutive grey frames, one burst every `period` frames.

    Each burst goes through `global_motion` as soon as it is complete, on a worker thread
    (OpenCV's optical flow releases the GIL, so on a second core it overlaps decoding and shot
    detection); at most `MAX_PENDING` bursts wait, so memory stays bounded. That gives exactly
    what the estimator computes on those frames: per-frame motion of each consecutive pair, and
    parallax over the burst (the estimator's own parallax baseline). Only the per-pair numbers
    are kept. Use as a context manager: leaving it stops the worker.
    """

    MAX_PENDING = 8

    def __init__(self, period: int, tail_from: int | None = None):
        self.period = period
        # Every frame from `tail_from` on (the video's last two periods, by the header's count)
        # is kept too: a last shot too short to hold a burst is then estimated from these
        # instead of being decoded again (seeking cost up to a fifth of a short file's import).
        self.tail_from = tail_from
        self.tail: deque[tuple[int, np.ndarray]] = deque(maxlen=2 * period + BURST)
        self.burst: list[tuple[int, np.ndarray]] = []
        self.last: tuple[int, np.ndarray] | None = None
        self.pending: list[tuple[list[int], Future]] = []
        self.pairs: list[tuple[int, np.ndarray]] = []   # (frame a of pair a→a+1, 5 numbers)
        self.aspect = 16 / 9
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cinestudio-motion")

    def __enter__(self) -> "_MotionSampler":
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.shutdown(wait=True, cancel_futures=True)

    def wants(self, index: int) -> bool:
        return index % self.period < BURST or (self.tail_from is not None and index >= self.tail_from)

    def push(self, index: int, grey: np.ndarray) -> None:
        """Frame `index` at `MOTION_SIDE`, grey, if `wants(index)`."""
        if self.tail_from is not None and index >= self.tail_from:
            self.tail.append((index, grey))
        if index % self.period >= BURST:
            return
        if self.burst and self.burst[-1][0] != index - 1:
            self._flush()
        if not self.burst and self.last is not None and self.last[0] == index - 1:
            self.burst.append(self.last)   # contiguous bursts chain: no pair is lost between them
        h, w = grey.shape[:2]
        self.aspect = w / h
        self.burst.append((index, grey))
        if len(self.burst) >= BURST:
            self._flush()

    def finish(self) -> None:
        self._flush()
        while self.pending:
            self._collect()

    def _flush(self) -> None:
        if len(self.burst) >= 2:
            greys = [g for _, g in self.burst]
            job = self.worker.submit(global_motion, greys, max_side=MOTION_SIDE, with_parallax=True)
            self.pending.append(([i for i, _ in self.burst], job))
            while len(self.pending) > self.MAX_PENDING:
                self._collect()
        self.last = self.burst[-1] if self.burst else None
        self.burst = []

    def _collect(self) -> None:
        indices, job = self.pending.pop(0)
        motion = job.result()
        for k in range(len(motion)):
            self.pairs.append((indices[k], motion[k]))

    def shot_pairs(self, start: int, end: int) -> list[tuple[int, np.ndarray]]:
        return [(a, r) for a, r in self.pairs if start <= a and a + 1 < end]

    def kept_frames(self, start: int, end: int) -> list[np.ndarray] | None:
        """The grey frames [start, end) if the tail still holds every one of them."""
        frames = [g for i, g in self.tail if start <= i < end]
        return frames if len(frames) == end - start else None


def shot_motion(rows: list[tuple[int, np.ndarray]], start: int, end: int, *, aspect: float,
                fps: float, scheme: str | None) -> dict[str, Any]:
    """Classify a shot's sampled pairs ``[(frame a, (dx, dy, log_scale, rotation, parallax))]``;
    segment bounds are mapped back to frame numbers of the video."""
    pairs = np.array([r[:4] for _, r in rows], dtype=float).reshape(-1, 4)
    parallax = np.array([r[4] for _, r in rows], dtype=float)
    # the estimator's own default: segments of at least a quarter second
    density = len(rows) / max(1, end - start - 1)
    min_segment = max(2, round((fps or 24) / 4 * density))
    segs, dominant = classify_pairs(pairs, parallax if rows else None, aspect=aspect, offset=0,
                                    min_segment=min_segment, scheme=scheme)
    starts = [start] + [rows[min(s["start"], len(rows) - 1)][0] for s in segs[1:]] if rows \
        else [start] * len(segs)
    out = [{**s, "start": starts[k], "end": starts[k + 1] if k + 1 < len(segs) else end}
           for k, s in enumerate(segs)]
    return {"dominant": list(dominant), "segments": out, "pairs": len(rows)}


# ----------------------------------------------------------------------------------------------

def _jpeg(rgb: np.ndarray) -> bytes:
    return _jpeg_bgr(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _jpeg_bgr(bgr: np.ndarray) -> bytes:
    h, w = bgr.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    if scale < 1.0:
        bgr = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG thumbnail")
    return buf.tobytes()


def motion_period(fps: float) -> int:
    """Frames from one motion burst to the next: `BURST` (every frame) up to ~MOTION_RATE/s."""
    return max(BURST, round((BURST - 1) * (fps or 24.0) / MOTION_RATE))


def analyse_video(path: str | os.PathLike[str], *, min_frames: int = DEFAULT_MIN_FRAMES,
                  scheme: str | None = None, info: VideoInfo | None = None,
                  progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> VideoAnalysis:
    """Probe and analyse a video in one decoding pass (see the module docstring).

    Raises `MediaError`/`UserInputError` for unreadable files and `Cancelled` when
    `should_stop()` turns true (checked every few frames).
    """
    path = os.fspath(path)
    info = info or probe(path)
    fps = float(info.fps) if info.fps and info.fps > 0 else 25.0
    period = motion_period(fps)
    sampler = _MotionSampler(period, tail_from=max(0, info.frames - 2 * period) if info.frames > 0 else None)
    want = {}
    if info.frames > 0:
        for k, i in enumerate(uniform_indices(0, info.frames, fp.FINGERPRINT_FRAMES)):
            want.setdefault(i, []).append(k)
    fp_frames: list[np.ndarray | None] = [None] * fp.FINGERPRINT_FRAMES
    thumb_every = max(1, min(max(1, min_frames // 2), round(fps / 2)))
    thumbs: list[tuple[int, Future]] = []   # (frame, JPEG bytes to come)
    count = 0
    total_hint = max(1, info.frames)

    def views_at(i: int) -> list[tuple[int, str]]:
        views = [THUMB_VIEW] if i % thumb_every == 0 else []
        if i in want and FINGERPRINT_VIEW not in views:
            views.append(FINGERPRINT_VIEW)
        if sampler.wants(i):
            views.append(MOTION_VIEW)
        return views

    def frames() -> Iterator[np.ndarray]:
        nonlocal count
        decoded = iter_analysis_views(path, (SHOT_SIDE, "bgr24"), views_at)
        try:
            for i, bgr, views in decoded:
                if i % 16 == 0:
                    if should_stop is not None and should_stop():
                        raise Cancelled("stopped on request")
                    if progress is not None and i % 64 == 0:
                        progress(i, max(total_hint, i + 1), "analysing")
                count = i + 1
                if MOTION_VIEW in views:
                    sampler.push(i, views[MOTION_VIEW])
                if i in want:
                    for k in want[i]:
                        fp_frames[k] = np.ascontiguousarray(views[FINGERPRINT_VIEW][..., ::-1])
                if THUMB_VIEW in views:   # encoded on the worker thread, off the critical path
                    thumbs.append((i, sampler.worker.submit(_jpeg_bgr, views[THUMB_VIEW])))
                    if len(thumbs) > _MotionSampler.MAX_PENDING:   # bounded: an older one is done
                        thumbs[-_MotionSampler.MAX_PENDING][1].result()
                yield bgr
        finally:
            decoded.close()

    with single_threaded_opencv(), sampler:   # our three threads keep the cores busy
        cuts = cuts_in_frames(frames(), fps, bgr=True)
        sampler.finish()
        jpegs = [(i, job.result()) for i, job in thumbs]
    if count == 0:
        raise MediaError(path, "no video frame can be decoded")
    cuts = [c for c in cuts if 0 < c < count]
    shots, skipped = [], []
    thumb_at = np.array([i for i, _ in jpegs]) if jpegs else np.zeros(0, dtype=int)
    for s in shots_from_cuts(cuts, count):
        start, end = s["start"], s["end"]
        if end - start < min_frames:
            skipped.append({"start": start, "end": end,
                            "reason": f"too short: {end - start} frames < {min_frames}"})
            continue
        mid = (start + end - 1) // 2
        jpeg = None
        inside = np.nonzero((thumb_at >= start) & (thumb_at < end))[0]
        if len(inside):
            best = inside[np.argmin(np.abs(thumb_at[inside] - mid))]
            jpeg = jpegs[best][1]
        else:
            jpeg = _thumbnail_by_seeking(path, mid)
        rows = sampler.shot_pairs(start, end)
        if len(rows) >= min(4, end - start - 1):
            motion = shot_motion(rows, start, end, aspect=sampler.aspect, fps=fps, scheme=scheme)
        else:  # a shot shorter than the sampling period: its frames, kept or decoded again
            kept = sampler.kept_frames(start, end)
            motion = _motion_by_seeking(path, start, end, fps, scheme) if kept is None \
                else _motion_of_frames(kept, start, fps, scheme)
        shots.append(ShotAnalysis(start, end, jpeg, motion))
    fingerprint = _fingerprint(path, fp_frames, info.frames, count)
    if progress is not None:
        progress(count, count, "analysed")
    if info.frames != count or info.counted == "claimed":
        info = dataclasses.replace(info, frames=count, duration=count / fps, counted="decoded")
    return VideoAnalysis(path=path, info=info, frames=count, fps=fps, cuts=cuts, shots=shots,
                         skipped=skipped, fingerprint=fingerprint, motion_period=period)


def _motion_by_seeking(path: str, start: int, end: int, fps: float,
                       scheme: str | None) -> dict[str, Any] | None:
    try:
        frames = read_frames(path, start, end, size=MOTION_SIDE)
    except MediaError:
        return None
    return _motion_of_frames(frames, start, fps, scheme)


def _motion_of_frames(frames, start: int, fps: float, scheme: str | None) -> dict[str, Any]:
    report = classify_motion(frames, offset=start, max_side=MOTION_SIDE, scheme=scheme, fps=fps,
                             min_segment=max(2, round((fps or 24) / 4)))
    return {"dominant": list(report.dominant), "segments": [dict(s) for s in report.segments],
            "pairs": max(0, len(frames) - 1)}


def _thumbnail_by_seeking(path: str, index: int) -> bytes | None:
    from cinestudio.media.thumbnails import thumbnail

    try:
        return _jpeg(thumbnail(path, index, THUMB_SIDE))
    except MediaError:
        return None


def _fingerprint(path: str, frames: list[np.ndarray | None], probed: int, decoded: int) -> str | None:
    if probed == decoded and all(f is not None for f in frames):
        return fp.frames_fingerprint(frames, decoded)  # type: ignore[arg-type]
    # The probe's count and the decode disagreed: sample again over what decoded.
    try:
        sampled = sample_frames(path, fp.FINGERPRINT_FRAMES, 0, decoded, size=FINGERPRINT_SIDE)
    except MediaError:
        return None
    return fp.frames_fingerprint(list(sampled), decoded)
