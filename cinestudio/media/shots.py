"""Shot boundary (hard cut) detection: PySceneDetect, tuned, plus a continuity check.

How it works
1. Frames are decoded at low resolution (``max_side``, default 128 px) straight from PyAV with
   frame threading; swscale shrinks them (cheaper than full-size RGB plus a resize).
2. PySceneDetect's `AdaptiveDetector` scores every frame (HSV content difference, hue at half
   weight: hue is noise in grey and dim pictures) and proposes candidates where the score jumps
   relative to its neighbours; the same adaptive rule on the plain grey-level difference proposes
   more (catches cuts between grey pictures), and so does any grey-level jump above
   ``threshold`` (two cuts close together, which the adaptive ratio misses).
3. Each candidate is checked for continuity, which content scores cannot see: if corners of the
   frame before the candidate can be tracked (pyramidal Lucas-Kanade, forward-backward check,
   RANSAC similarity) into the candidate frame, the picture merely moved (a fast pan or zoom) or
   changed brightness (frames are gain-normalised first): no cut. If the frame before can be
   tracked into one of the next few frames, or a frame before that into the candidate, the change
   was a flash or a glitch that went away: no cut.

Cuts are reported as the first frame of each new shot; shots are ``[start, end)`` and cover the
whole video. Every threshold is a keyword of `detect_shots` (see `DEFAULT_TUNING`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector

from cinestudio.progress import ProgressFn, StopFn, check_stop

__all__ = ["ShotList", "detect_shots", "cuts_in_frames", "cut_finder", "shots_from_cuts",
           "DEFAULT_TUNING"]

DEFAULT_TUNING: dict = {
    "max_side": 128,            # decode size (longest side, px)
    "adaptive_threshold": 2.2,  # AdaptiveDetector: score / mean of neighbours' scores
    "min_content_val": 6.0,     # AdaptiveDetector: minimum score of a cut
    "window_width": 2,          # AdaptiveDetector: neighbours on each side
    "threshold": 35.0,          # a mean grey-level jump this high is a candidate whatever its
                                # neighbours (0-255 scale)
    "hue_weight": 0.5,          # weight of the hue component in the score (sat, lum: 1)
    "edge_weight": 0.0,         # weight of the edge component in the score (0: not computed)
    "grey_saturation": 20.0,    # mean HSV saturation below which the video counts as grey and
                                # hue (pure noise there) is ignored
    "luma_candidates": True,    # the same adaptive rule on the mean grey-level difference alone
                                # also proposes candidates (hue is noise in grey or dim pictures)
    "min_scene_len": 3,         # frames: candidates closer than this to the last cut are dropped
    "verify": True,             # continuity check of candidates (motion / flash / glitch)
    "flash_frames": 3,          # a change that reverts within this many frames is a flash
    "verify_side": 128,         # continuity check resolution (longest side, px)
    "min_inliers": 10,          # tracked corners agreeing on one motion that prove continuity
    "min_inlier_ratio": 0.12,   # ... as a fraction of the corners found
}


@dataclass
class ShotList:
    """Cuts (first frame of each new shot) and shots ``[start, end)`` covering `frames` frames."""

    cuts: list[int]
    shots: list[dict]
    frames: int
    fps: float = 0.0

    def to_dict(self) -> dict:
        return {"cuts": list(self.cuts), "shots": [dict(s) for s in self.shots],
                "frames": self.frames, "fps": self.fps}


def shots_from_cuts(cuts: Iterable[int], frames: int) -> list[dict]:
    edges = [0] + [c for c in sorted(set(cuts)) if 0 < c < frames] + [frames]
    return [{"start": a, "end": b} for a, b in zip(edges[:-1], edges[1:]) if b > a]


# ----------------------------------------------------------------------------------------------
# Continuity check

_LK = dict(winSize=(11, 11), maxLevel=3,
           criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03))


def _normalised_gray(bgr: np.ndarray, side: int) -> np.ndarray:
    """Grey, at most `side` px, gain/offset normalised (a flash or a fade scales brightness)."""
    g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    h, w = g.shape
    if max(h, w) > side:
        f = side / max(h, w)
        g = cv2.resize(g, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    g = g.astype(np.float32)
    g = (g - g.mean()) / (g.std() + 5.0)
    return np.clip(g * 40.0 + 128.0, 0, 255).astype(np.uint8)


class _Continuity:
    def __init__(self, min_inliers: int, min_ratio: float, max_corners: int = 100):
        self.max_corners = max_corners
        self.min_inliers = min_inliers
        self.min_ratio = min_ratio
        self._corners: dict[int, np.ndarray | None] = {}

    def corners(self, key: int, g: np.ndarray) -> np.ndarray | None:
        if key not in self._corners:
            h, w = g.shape
            mask = np.zeros_like(g)
            mask[h // 16: h - h // 16, w // 16: w - w // 16] = 255
            self._corners[key] = cv2.goodFeaturesToTrack(g, self.max_corners, 0.01, max(3, max(h, w) // 32),
                                                         mask=mask, blockSize=5)
            if len(self._corners) > 64:
                self._corners.pop(next(iter(self._corners)))
        return self._corners[key]

    def same_shot(self, ka: int, a: np.ndarray, b: np.ndarray) -> bool | None:
        """True if `a` tracks into `b` (one shot), False if not, None if `a` has no texture.

        Forward tracks must agree on one similarity motion (RANSAC) and the agreeing ones must
        track back to where they started; across a cut the forward tracks are noise, so most
        cuts cost one tracking pass."""
        p0 = self.corners(ka, a)
        if p0 is None or len(p0) < 8:
            return None
        n = len(p0)
        p1, s1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, None, **_LK)
        fwd = s1.ravel() == 1
        if fwd.sum() < self.min_inliers:
            return False
        p0, p1 = p0[fwd], p1[fwd]
        m, inl = cv2.estimateAffinePartial2D(p0, p1, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        if m is None:
            return False
        inl = inl.ravel().astype(bool)
        if inl.sum() < max(self.min_inliers, self.min_ratio * n):
            return False
        p0, p1 = p0[inl], p1[inl]
        pb, s2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, None, **_LK)
        ok = (s2.ravel() == 1) & (np.linalg.norm((p0 - pb).reshape(-1, 2), axis=1) < 1.0)
        return int(ok.sum()) >= max(self.min_inliers, self.min_ratio * n)


# ----------------------------------------------------------------------------------------------
# Detection over a stream of frames

class _CutFinder:
    """Streaming cut detection: push BGR frames in order, read `cuts` at the end."""

    def __init__(self, fps: float, tuning: dict):
        t = tuning
        self.t = t
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.det: _FastAdaptiveDetector | None = None    # made at the first frame (grey or colour)
        self.luma_scores: list[float] = []
        self.prev_gray: np.ndarray | None = None
        self.cont = _Continuity(t["min_inliers"], t["min_inlier_ratio"])
        keep = t["flash_frames"] + t["window_width"] + 4
        self.buf: deque[tuple[int, np.ndarray]] = deque(maxlen=keep)
        self.pending: list[int] = []
        self.strong: set[int] = set()
        self.norm: dict[int, np.ndarray] = {}
        self.cuts: list[int] = []
        self.n = 0

    def _make_detectors(self, bgr: np.ndarray) -> None:
        t = self.t
        hue = float(t["hue_weight"])
        if bgr.ndim == 3:
            sat = float(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)[:, :, 1].mean())
            if sat < t["grey_saturation"]:
                hue = 0.0
        w = ContentDetector.Components(delta_hue=hue, delta_sat=1.0, delta_lum=1.0,
                                       delta_edges=float(t["edge_weight"]))
        self.det = _FastAdaptiveDetector(adaptive_threshold=t["adaptive_threshold"], min_scene_len=0,
                                         window_width=t["window_width"],
                                         min_content_val=t["min_content_val"], weights=w)

    def _luma_adaptive(self, i: int) -> list[int]:
        """AdaptiveDetector's rule (score / mean of the neighbours' scores) on luma alone."""
        w = self.t["window_width"]
        c = i - w
        if c < 1:
            return []
        target = self.luma_scores[c]
        if target < self.t["min_content_val"]:
            return []
        window = self.luma_scores[c - w:c] + self.luma_scores[c + 1:c + w + 1]
        mean = sum(window) / max(1, len(window))
        ratio = 255.0 if mean < 1e-5 else target / mean
        return [c] if ratio >= self.t["adaptive_threshold"] else []

    def push(self, bgr: np.ndarray) -> None:
        h, w = bgr.shape[:2]
        side = self.t["max_side"]
        if max(h, w) > side:
            f = side / max(h, w)
            bgr = cv2.resize(bgr, (max(8, round(w * f)), max(8, round(h * f))),
                             interpolation=cv2.INTER_AREA)
        if self.det is None:
            self._make_detectors(bgr)
        i = self.n
        self.n += 1
        tc = FrameTimecode(i, self.fps)
        found = [int(c.frame_num) for c in self.det.process_frame(tc, bgr)]
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
        # mean absolute difference; cv2.norm's exact integer sum gives numpy's mean, ~5x cheaper
        luma = 0.0 if self.prev_gray is None else cv2.norm(gray, self.prev_gray, cv2.NORM_L1) / gray.size
        self.luma_scores.append(luma)
        if luma >= self.t["threshold"]:
            self.strong.add(i)
            found.append(i)
        if self.t["luma_candidates"]:
            found += self._luma_adaptive(i)
        self.prev_gray = gray
        if self.t["verify"]:
            self.buf.append((i, gray))   # normalised lazily, only around candidates
        for c in found:
            if c > 0 and c not in self.pending and (not self.cuts or c > self.cuts[-1]):
                self.pending.append(c)
        self._resolve(final=False)

    def finish(self) -> list[int]:
        self._resolve(final=True)
        return self.cuts

    def _frame(self, i: int) -> np.ndarray | None:
        if i in self.norm:
            return self.norm[i]
        for j, g in self.buf:
            if j == i:
                self.norm[i] = _normalised_gray(g, self.t["verify_side"])
                if len(self.norm) > 32:
                    self.norm.pop(next(iter(self.norm)))
                return self.norm[i]
        return None

    def _resolve(self, final: bool) -> None:
        self.pending.sort()
        while self.pending:
            c = self.pending[0]
            if not final and self.n - 1 < c + self.t["flash_frames"]:
                return   # need the frames after the candidate first
            self.pending.pop(0)
            if self.cuts and c - self.cuts[-1] < self.t["min_scene_len"]:
                continue
            if self.t["verify"] and not self._is_cut(c):
                continue
            self.cuts.append(c)

    def _is_cut(self, c: int) -> bool:
        prev, cur = self._frame(c - 1), self._frame(c)
        if prev is None or cur is None:
            return True
        same = self.cont.same_shot(c - 1, prev, cur)
        if same:
            return False     # the picture moved or changed brightness, it did not change
        if same is None and c not in self.strong:
            # A blank frame before (black leader, flat sky): a cut if the picture now has texture.
            p_cur = self.cont.corners(c, cur)
            if p_cur is None or len(p_cur) < 8:
                return False
        # Flash or glitch: the picture comes back. Tracking is only tried where a thumbnail says
        # the picture might have come back (much closer to the frame before the change).
        lookahead = self.t["flash_frames"]
        t_prev, t_cur = self._thumb(c - 1), self._thumb(c)
        jump = float(cv2.absdiff(t_prev, t_cur).mean())
        near = max(0.6 * jump, 10.0)   # "might have come back": closer than this
        for j in range(1, lookahead + 1):
            nxt = self._frame(c + j)
            if (nxt is not None and float(cv2.absdiff(t_prev, self._thumb(c + j)).mean()) < near
                    and self.cont.same_shot(c - 1, prev, nxt)):
                return False  # the change went away again: a flash or a glitch
            back = self._frame(c - 1 - j)
            if (back is not None and j < lookahead
                    and float(cv2.absdiff(self._thumb(c - 1 - j), t_cur).mean()) < near
                    and self.cont.same_shot(c - 1 - j, back, cur)):
                return False  # the frame before the candidate was the odd one out
        return True

    def _thumb(self, i: int) -> np.ndarray:
        g = self._frame(i)
        if g is None:
            return np.zeros((9, 16), np.uint8)
        h, w = g.shape
        return cv2.resize(g, (32, max(2, round(32 * h / w))), interpolation=cv2.INTER_AREA)


def cut_finder(fps: float = 25.0, **tuning) -> _CutFinder:
    """A streaming cut detector: ``push(frame_bgr)`` every frame in order (any size: frames
    larger than ``max_side`` are shrunk), then ``finish()`` returns the cuts. Memory stays
    bounded however long the video."""
    return _CutFinder(fps, _tuning(tuning))


def cuts_in_frames(frames: Iterable[np.ndarray], fps: float = 25.0, *, bgr: bool = False,
                   **tuning) -> list[int]:
    """Cuts in an in-memory sequence (or any iterable) of frames (RGB uint8 unless `bgr`)."""
    finder = cut_finder(fps, **tuning)
    for f in frames:
        finder.push(np.ascontiguousarray(f if bgr else f[..., ::-1]))
    return finder.finish()


class _FastAdaptiveDetector(AdaptiveDetector):
    """PySceneDetect's `AdaptiveDetector`, with its frame score's mean absolute differences taken
    by OpenCV (`cv2.norm` L1: the same integer sum, so the same float) instead of numpy's int32
    copies: ~12x cheaper per channel, a tenth of an import's per-frame work at low resolution.
    Used only where the library's score is the plain one (no edges, no stats manager) and its
    internals are the ones this was written against; `tests/media/test_shots.py` checks that
    the scores are identical."""

    _COMPATIBLE = all(hasattr(ContentDetector, a) for a in ("_calculate_frame_score", "_FrameData"))

    def _calculate_frame_score(self, timecode, frame_img: np.ndarray) -> float:
        weights = getattr(self, "_weights", None)
        if (not self._COMPATIBLE or weights is None or weights.delta_edges > 0.0
                or self.stats_manager is not None or not hasattr(self, "_last_frame")):
            return super()._calculate_frame_score(timecode, frame_img)
        hue, sat, lum = cv2.split(cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV))
        last = self._last_frame
        self._last_frame = ContentDetector._FrameData(hue, sat, lum, None)
        if last is None:
            return 0.0
        n = float(lum.shape[0] * lum.shape[1])
        parts = (cv2.norm(hue, last.hue, cv2.NORM_L1) / n, cv2.norm(sat, last.sat, cv2.NORM_L1) / n,
                 cv2.norm(lum, last.lum, cv2.NORM_L1) / n, 0.0)
        return sum(c * w for c, w in zip(parts, weights, strict=True)) / sum(abs(w) for w in weights)


def _tuning(tuning: dict) -> dict:
    unknown = set(tuning) - set(DEFAULT_TUNING)
    if unknown:
        raise TypeError(f"unknown tuning option(s): {', '.join(sorted(unknown))}")
    return {**DEFAULT_TUNING, **tuning}


def detect_shots(path: str | os.PathLike[str], progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None, **tuning) -> ShotList:
    """Hard cuts and shots of a video file. Raises `MediaError`/`UserInputError` for bad files.

    `tuning` overrides `DEFAULT_TUNING` (e.g. ``max_side=128`` for speed, ``verify=False`` for
    PySceneDetect's adaptive detector alone).
    """
    from cinestudio.media import _frames

    t = _tuning(tuning)
    fps, total = _frames.video_info(path)
    finder = _CutFinder(fps, t)
    for i, frame in _frames.prefetched(_frames.iter_small_frames(path, t["max_side"], "bgr24")):
        if i % 32 == 0:
            check_stop(should_stop)
        finder.push(frame)
        if progress is not None and i % 50 == 0:
            progress(i, max(total, i + 1), "shots")
    check_stop(should_stop)
    n = finder.n
    if n == 0:
        from cinestudio.errors import MediaError
        raise MediaError(os.fspath(path), "no decodable video frames")
    cuts = finder.finish()
    if progress is not None:
        progress(n, n, "shots")
    return ShotList(cuts=cuts, shots=shots_from_cuts(cuts, n), frames=n, fps=fps)
