"""Classical global camera-motion estimation and movement classification.

Per frame pair: corners (``cv2.goodFeaturesToTrack``) tracked with pyramidal Lucas-Kanade in both
directions (a track is kept only if tracking it back lands where it started), then a robust
similarity fit (``cv2.estimateAffinePartial2D`` with RANSAC). The fit gives the motion of the
PICTURE CONTENT from one frame to the next, as four numbers per pair (`global_motion`):

    dx, dy     translation of the frame centre, as a fraction of the frame width / height
               (+dx: content moves right, +dy: content moves down)
    log_scale  log of the scale change (+: content grows)
    rotation   radians, in image coordinates (+: content turns clockwise on screen)

Parallax (depth-dependent flow) is what separates a dolly from a zoom: pan, tilt, roll and zoom
scale every distance in the picture by the same factor whatever its depth, while a camera that
moves does not (near things grow faster than far ones). `pair_parallax` measures the spread of
the local scale changes between tracks over a few frames (`PARALLAX_BASELINE`).

Camera directions follow TAXONOMY.md: the camera's move is the opposite of the content's.
pan_left = camera turns left, content moves right (+dx); tilt_up = content moves down (+dy);
zoom_in / dolly_in = content grows; roll_clockwise = content turns anticlockwise (-rotation).

`estimate_motion(path)` decodes a frame range at low resolution, smooths the per-pair motion,
cuts it into segments of consistent movement and names each segment's movement class(es) with a
magnitude and a confidence. `classify_motion(frames)` does the same on an in-memory clip.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from cinestudio.errors import UserInputError
from cinestudio.progress import ProgressFn, StopFn, check_stop

__all__ = [
    "MotionReport", "PairMotion", "estimate_motion", "global_motion", "pair_motion", "pair_parallax",
    "classify_motion", "classify_pairs", "classify_vector", "MOVEMENT_CLASSES", "STATIC_THRESHOLD",
]

# Classes the estimator can name. truck_* / pedestal_* are reported only for schemes that have
# them (the default cinematic2k folds them into pan_* / tilt_*, which move the picture the same way).
MOVEMENT_CLASSES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                    "dolly_in", "dolly_out", "roll_clockwise", "roll_anticlockwise",
                    "truck_left", "truck_right", "pedestal_up", "pedestal_down")

# A component counts as moving when the content at the frame's edge travels more than this
# fraction of the frame per frame (0.0015 = 0.15 %: a pan crossing the frame in ~27 s at 25 fps).
STATIC_THRESHOLD = 0.0015
# Parallax score (see `pair_parallax`) above which divergence is a dolly, not a zoom.
PARALLAX_THRESHOLD = 0.35
# Roll must be this many times the threshold (see classify_vector).
ROLL_FACTOR = 1.5
# A compound move lists a second component only if it is at least this fraction of the first.
SECONDARY_FRACTION = 0.3
# Fraction of a segment's pairs that must move the way its mean does (else it is jitter).
CONSISTENCY = 0.75
# Prefer a still, spread-out background to a bigger moving subject (see _Tracker._still_background).
STILL_BACKGROUND = True
MAX_SIDE = 192          # frames are analysed at most this large (longest side, pixels)
MIN_TRACKS = 8          # fewer good tracks than this and a pair is "unknown"


@dataclass
class PairMotion:
    """Global motion between two frames (see module docstring for units)."""

    dx: float = 0.0
    dy: float = 0.0
    log_scale: float = 0.0
    rotation: float = 0.0
    parallax: float = 0.0
    tracks: int = 0
    inlier_ratio: float = 0.0
    valid: bool = False

    def vector(self) -> np.ndarray:
        return np.array([self.dx, self.dy, self.log_scale, self.rotation])


@dataclass
class MotionReport:
    """Result of `estimate_motion` / `classify_motion`.

    `segments`: [{start, end, movement, magnitude, confidence, components, motion}] with frame
    numbers of the analysed file (end exclusive); `movement` is the segment's strongest class,
    `components` every class it shows (a compound move lists several). `dominant`: the clip's
    dominant classes, strongest first (``["static"]`` when nothing moves). `pairs` holds the raw
    per-pair motion (N-1, 4) and `parallax` (N-1,) for whoever wants to look closer.
    """

    start: int
    end: int
    segments: list[dict] = field(default_factory=list)
    dominant: list[str] = field(default_factory=list)
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    parallax: np.ndarray = field(default_factory=lambda: np.zeros((0,)))
    fps: float = 0.0
    size: tuple[int, int] = (0, 0)
    cuts: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "fps": self.fps, "cuts": list(self.cuts),
                "dominant": list(self.dominant), "segments": [dict(s) for s in self.segments]}


# ----------------------------------------------------------------------------------------------
# Per-pair estimation

def _to_gray(frame: np.ndarray, max_side: int) -> np.ndarray:
    img = np.asarray(frame)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_RGB2GRAY) if img.shape[2] >= 3 else img[:, :, 0]
    h, w = img.shape[:2]
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        img = cv2.resize(img, (max(8, round(w * f)), max(8, round(h * f))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


class _Tracker:
    """Tracks corners between consecutive grey frames; keeps parameters scaled to the frame."""

    def __init__(self, shape: tuple[int, int]):
        h, w = shape
        side = max(h, w)
        self.min_dist = max(3, side // 40)
        self.max_corners = 400
        self.win = 21 if side >= 128 else 15
        self.levels = 3 if side >= 96 else 2
        self.fb_tol = max(0.5, side / 256)              # forward-backward error allowed (px)
        self.ransac_tol = max(0.75, side / 192)          # RANSAC reprojection tolerance (px)
        self.still_tol = max(0.3, side / 640)            # a point this close to where it was is still
        self.lk = dict(winSize=(self.win, self.win), maxLevel=self.levels,
                       criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
        # Ignore a thin border: reflections, letterbox edges and rolling black bars.
        self.mask = np.zeros((h, w), np.uint8)
        bh, bw = max(2, h // 32), max(2, w // 32)
        self.mask[bh:h - bh, bw:w - bw] = 255

    def corners(self, gray: np.ndarray, quality: float = 0.005) -> np.ndarray | None:
        return cv2.goodFeaturesToTrack(gray, maxCorners=self.max_corners, qualityLevel=quality,
                                       minDistance=self.min_dist, mask=self.mask, blockSize=5)

    def tracks(self, g0: np.ndarray, g1: np.ndarray, p0: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray] | None:
        """Corners `p0` of `g0` tracked into `g1`, kept if they track back (forward-backward)."""
        if p0 is None or len(p0) < MIN_TRACKS:
            return None
        h, w = g0.shape
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(g0, g1, p0, None, **self.lk)
        pb, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **self.lk)
        fb = np.linalg.norm((p0 - pb).reshape(-1, 2), axis=1)
        ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < self.fb_tol)
        a, b = p0.reshape(-1, 2)[ok], p1.reshape(-1, 2)[ok]
        inside = (b[:, 0] >= 0) & (b[:, 0] < w) & (b[:, 1] >= 0) & (b[:, 1] < h)
        return a[inside], b[inside]

    def track(self, g0: np.ndarray, g1: np.ndarray, p0: np.ndarray | None) -> PairMotion:
        h, w = g0.shape
        ab = self.tracks(g0, g1, p0)
        if ab is None or len(ab[0]) < MIN_TRACKS:
            return PairMotion(tracks=0 if ab is None else len(ab[0]))
        a, b = ab
        n = len(a)
        m, inl = cv2.estimateAffinePartial2D(a, b, method=cv2.RANSAC,
                                             ransacReprojThreshold=self.ransac_tol,
                                             maxIters=1000, confidence=0.995, refineIters=10)
        if m is None:
            return PairMotion(tracks=n)
        inl = inl.ravel().astype(bool)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        tx = m[0, 0] * cx + m[0, 1] * cy + m[0, 2] - cx
        ty = m[1, 0] * cx + m[1, 1] * cy + m[1, 2] - cy
        scale = math.hypot(m[0, 0], m[1, 0])
        rot = math.atan2(m[1, 0], m[0, 0])
        shift = max(abs(tx) / w, abs(ty) / h, 0.5 * abs(rot))
        if (STILL_BACKGROUND and 0.5 * abs(math.log(max(scale, 1e-6))) < 0.5 * shift
                and self._still_background(g0, a, b, inl)):
            # A still, spread-out group of points, not explained by the fitted motion and as
            # big as the group that is: a static camera watching a big moving subject, not a
            # moving camera. (Not applied when the picture mainly scales: in a dolly the
            # distant background IS still.)
            return PairMotion(tracks=n, inlier_ratio=float(inl.mean()), valid=True)
        return PairMotion(dx=tx / w, dy=ty / h, log_scale=math.log(max(scale, 1e-6)), rotation=rot,
                          tracks=n, inlier_ratio=float(inl.mean()), valid=True)

    def _still_background(self, g0: np.ndarray, a: np.ndarray, b: np.ndarray,
                          inliers: np.ndarray) -> bool:
        h, w = g0.shape
        # still, and not merely points the fitted motion barely moves (the middle of a roll)
        still = (np.linalg.norm(b - a, axis=1) < self.still_tol) & ~inliers
        n_still = int(still.sum())
        if n_still < max(MIN_TRACKS, 0.5 * int(inliers.sum())) or n_still > 0.8 * len(a):
            return False   # no sizeable still group, or the fitted motion is stillness anyway
        # Only real corners count: a point on an edge that runs along the motion looks still
        # (aperture problem), e.g. the sides of a road stripe in a shot travelling along it.
        eig = cv2.cornerMinEigenVal(g0, 5)
        xi = np.clip(a[:, 0].round().astype(int), 0, w - 1)
        yi = np.clip(a[:, 1].round().astype(int), 0, h - 1)
        still &= eig[yi, xi] >= PARALLAX_CORNER_QUALITY * float(eig.max())
        if int(still.sum()) < max(MIN_TRACKS, 0.5 * int(inliers.sum())):
            return False
        pts = a[still]
        cx = np.clip((pts[:, 0] * 4 / w).astype(int), 0, 3)
        cy = np.clip((pts[:, 1] * 4 / h).astype(int), 0, 3)
        cells = set(zip(cx.tolist(), cy.tolist()))
        border = {c for c in cells if c[0] in (0, 3) or c[1] in (0, 3)}
        return len(cells) >= 4 and len(border) >= 2

    def parallax(self, g0: np.ndarray, g1: np.ndarray) -> float:
        """`pair_parallax` between two frames, from strong corners when there are enough of
        them (points on straight edges slide along the edge: the aperture problem), else from
        all corners."""
        h, w = g0.shape
        for quality in (PARALLAX_CORNER_QUALITY, 0.005):
            ab = self.tracks(g0, g1, self.corners(g0, quality))
            if ab is not None and len(ab[0]) >= 25:
                return pair_parallax(ab[0], ab[1], (w, h), self.ransac_tol)
        return pair_parallax(ab[0], ab[1], (w, h), self.ransac_tol) if ab is not None else 0.0


def pair_parallax(a: np.ndarray, b: np.ndarray, size: tuple[int, int], tol: float = 1.0) -> float:
    """How unevenly the picture scales between two frames: 0 for pan/tilt/roll/zoom, higher
    when near things grow or shrink faster than far ones (a camera that moves: dolly).

    For random pairs of tracks at least 15 % of the frame apart, the log ratio of their
    distances after and before is the local scale change. Pan, tilt, roll and zoom change every
    such distance by the same factor whatever the depth; a moving camera does not. We return the
    spread (75th percentile of the absolute deviations) of those log ratios divided by their
    median's size (plus
    0.004, so that scale-free motion scores high but is never used: the caller only asks about
    parallax when the picture visibly scales). `tol` is unused (kept for callers).
    """
    n = len(a)
    if n < 12:
        return 0.0
    side = max(size)
    rng = np.random.default_rng(n)   # deterministic for given tracks
    i = rng.integers(n, size=800)
    j = rng.integers(n, size=800)
    da = np.linalg.norm(a[i] - a[j], axis=1)
    ok = da > 0.15 * side
    if ok.sum() < 20:
        return 0.0
    db = np.linalg.norm(b[i[ok]] - b[j[ok]], axis=1)
    r = np.log(np.maximum(db, 1e-6) / da[ok])
    med = float(np.median(r))
    # 75th percentile, not the median, of the deviations: a near subject may hold well under
    # half of the tracks.
    dev = float(np.percentile(np.abs(r - med), 75))
    return dev / (abs(med) + 0.004)


def pair_motion(frame0: np.ndarray, frame1: np.ndarray, max_side: int = MAX_SIDE) -> PairMotion:
    """Global motion from `frame0` to `frame1` (RGB or grey uint8 arrays of one size)."""
    g0, g1 = _to_gray(frame0, max_side), _to_gray(frame1, max_side)
    tr = _Tracker(g0.shape)
    pm = tr.track(g0, g1, tr.corners(g0))
    if pm.valid:
        pm.parallax = tr.parallax(g0, g1)
    return pm


PARALLAX_CORNER_QUALITY = 0.03
PARALLAX_BASELINE = 4   # parallax is measured between frames this far apart (more flow, less noise)


class _PairStream:
    """Motion of consecutive grey frames pushed one at a time. Each pair's `parallax` comes from
    the window of `PARALLAX_BASELINE` frames it lies in (one extra tracking pass per window);
    only that window's frames are kept, so memory stays bounded however long the video."""

    def __init__(self) -> None:
        self.tr: _Tracker | None = None
        self.pairs: list[PairMotion] = []
        self.window: list[np.ndarray] = []   # frames of the current parallax window
        self.w0 = 0                          # index of the window's first pair

    def push(self, gray: np.ndarray) -> None:
        if self.tr is None:
            self.tr = _Tracker(gray.shape)
        if self.window:
            prev = self.window[-1]
            self.pairs.append(self.tr.track(prev, gray, self.tr.corners(prev)))
        self.window.append(gray)
        if len(self.window) == PARALLAX_BASELINE + 1:
            self._close_window()

    def _close_window(self) -> None:
        if len(self.window) >= 2:
            i0, i1 = self.w0, self.w0 + len(self.window) - 1
            # Track from the frame where the content is smaller (zoomed out) to the other:
            # corners found in the magnified frame hold detail the other one blurs away, which
            # reads as parallax. So a move and the move played backwards measure the same.
            growth = sum(p.log_scale for p in self.pairs[i0:i1] if p.valid)
            first, last = self.window[0], self.window[-1]
            par = self.tr.parallax(first, last) if growth >= 0 else self.tr.parallax(last, first)
            for p in self.pairs[i0:i1]:
                p.parallax = par
            self.w0 = i1
        self.window = self.window[-1:]

    def finish(self) -> list[PairMotion]:
        self._close_window()
        return self.pairs


def _pairs_from_grays(grays: Iterable[np.ndarray], progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None, total: int = 0) -> list[PairMotion]:
    stream = _PairStream()
    for i, g in enumerate(grays):
        if i % 16 == 0:
            check_stop(should_stop)
            if progress is not None:
                progress(i, max(total, i + 1), "motion")
        stream.push(g)
    out = stream.finish()
    if progress is not None:
        progress(len(out), len(out), "motion")
    return out


def global_motion(frames: np.ndarray | Sequence[np.ndarray], max_side: int = MAX_SIDE,
                  with_parallax: bool = False) -> np.ndarray:
    """Per frame pair (dx, dy, log_scale, rotation) of the picture content: an (N-1, 4) array.

    `frames`: (N, H, W, 3) RGB or (N, H, W) grey uint8. Pairs that cannot be tracked (blank or
    featureless frames) are NaN. With `with_parallax`, a fifth column holds the parallax of the
    `PARALLAX_BASELINE`-frame window the pair lies in (`pair_parallax`: ~0-0.3 for pans, tilts,
    rolls and zooms, higher for dollies; only meaningful where the picture scales).
    """
    grays = [_to_gray(f, max_side) for f in frames]
    pm = _pairs_from_grays(grays)
    cols = 5 if with_parallax else 4
    out = np.full((len(pm), cols), np.nan)
    for i, p in enumerate(pm):
        if p.valid:
            out[i, :4] = p.vector()
            if with_parallax:
                out[i, 4] = p.parallax
    return out


# ----------------------------------------------------------------------------------------------
# Classification

def _edge_units(v: np.ndarray, aspect: float) -> np.ndarray:
    """Per-pair motion in comparable units: how far content at the frame edge moves, as a
    fraction of the frame width, for each of pan(x), tilt(y), zoom and roll components."""
    out = np.empty_like(v)
    out[..., 0] = v[..., 0]
    out[..., 1] = v[..., 1]
    out[..., 2] = 0.5 * v[..., 2]            # a scale change s moves the edge by s * W/2
    out[..., 3] = 0.5 * v[..., 3]            # a rotation r moves it by r * W/2
    return out   # (`aspect` is kept for callers; translation is already per axis)


_NAMES = {  # component index, sign of content motion → camera class
    (0, +1): "pan_left", (0, -1): "pan_right",
    (1, +1): "tilt_up", (1, -1): "tilt_down",
    (2, +1): "zoom_in", (2, -1): "zoom_out",
    (3, -1): "roll_clockwise", (3, +1): "roll_anticlockwise",
}
_DOLLY = {"zoom_in": "dolly_in", "zoom_out": "dolly_out"}
_TRUCK = {"pan_left": "truck_left", "pan_right": "truck_right",
          "tilt_up": "pedestal_up", "tilt_down": "pedestal_down"}


def classify_vector(edge: np.ndarray, parallax: float = 0.0, threshold: float = STATIC_THRESHOLD,
                    allowed: set[str] | None = None) -> list[tuple[str, float]]:
    """Classes shown by one mean motion vector in edge units, strongest first, with magnitudes.

    Components below `threshold` are ignored (roll below `ROLL_FACTOR` x threshold: a subject
    turning in frame easily fakes a little roll); an empty list means static. A secondary
    component must also reach `SECONDARY_FRACTION` of the main one. Divergence with parallax is
    a dolly, translation with strong parallax a truck/pedestal (if `allowed`).
    """
    found = []
    mags = np.abs(np.nan_to_num(np.asarray(edge, float)[:4]))
    mags[3] = mags[3] / ROLL_FACTOR
    top = float(mags.max()) if len(mags) else 0.0
    for comp in range(4):
        val = float(edge[comp])
        if not np.isfinite(val) or mags[comp] < threshold or mags[comp] < SECONDARY_FRACTION * top:
            continue
        name = _NAMES[(comp, 1 if val > 0 else -1)]
        if comp == 2 and parallax >= PARALLAX_THRESHOLD:
            name = _DOLLY[name]
        elif comp in (0, 1) and parallax >= 2 * PARALLAX_THRESHOLD and abs(edge[2]) < threshold:
            truck = _TRUCK[name]
            if allowed is not None and truck in allowed:
                name = truck
        if allowed is not None and name not in allowed:
            continue
        found.append((name, abs(val)))
    found.sort(key=lambda t: -t[1])
    return found


def _smooth(v: np.ndarray, k: int) -> np.ndarray:
    """Per column: a running median over `k` pairs (robust to one-pair glitches), then a running
    mean over ~2k pairs (averages handheld jitter out). NaN-aware; windows shrink at the ends."""
    n = len(v)
    if n == 0 or k <= 1:
        return v.copy()
    half = k // 2
    med = np.full_like(v, np.nan)
    for i in range(n):
        win = v[max(0, i - half):min(n, i + half + 1)]
        ok = np.isfinite(win).all(axis=1)
        if ok.any():
            med[i] = np.median(win[ok], axis=0)
    out = np.full_like(v, np.nan)
    for i in range(n):
        win = med[max(0, i - k):min(n, i + k + 1)]
        ok = np.isfinite(win).all(axis=1)
        if ok.any() and np.isfinite(med[i]).all():
            out[i] = win[ok].mean(axis=0)
    return out


def _allowed_classes(scheme: str | None) -> set[str]:
    """Classes to report: with no scheme, cinematic2k's camera moves plus roll (cheap and
    unambiguous); with a scheme, exactly its movement keys that the estimator can name (so
    truck_*/pedestal_* appear with `extended`, and roll disappears with `cinematic2k`)."""
    base = {"static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
            "dolly_in", "dolly_out", "roll_clockwise", "roll_anticlockwise"}
    if scheme is None:
        return base
    from cinestudio.taxonomy import load_taxonomy
    return set(load_taxonomy(scheme).keys("movement")) & set(MOVEMENT_CLASSES)


def classify_pairs(pairs: np.ndarray, parallax: np.ndarray | None = None, *, aspect: float = 4 / 3,
                   offset: int = 0, min_segment: int = 6, smooth: int = 5,
                   threshold: float = STATIC_THRESHOLD, scheme: str | None = None,
                   quality: np.ndarray | None = None) -> tuple[list[dict], list[str]]:
    """Segment per-pair motion (N-1, 4) into runs of one movement; return (segments, dominant).

    Frame numbers in segments are `offset` + index, end exclusive, covering N frames.
    """
    allowed = _allowed_classes(scheme)
    n_pairs = len(pairs)
    n_frames = n_pairs + 1
    if n_pairs == 0:
        seg = {"start": offset, "end": offset + n_frames, "movement": "static", "magnitude": 0.0,
               "confidence": 0.0, "components": [], "motion": {}}
        return [seg], ["static"]
    par = np.zeros(n_pairs) if parallax is None else np.nan_to_num(np.asarray(parallax, float))
    edge = _edge_units(np.asarray(pairs, float), aspect)
    sm = _smooth(edge, min(smooth, n_pairs))
    # Per-pair label: the set of components above threshold (NaN pairs: unknown, join neighbours).
    labels: list[tuple | None] = []
    for i in range(n_pairs):
        if not np.isfinite(sm[i]).all():
            labels.append(None)
            continue
        comps = tuple(sorted((c, 1 if sm[i, c] > 0 else -1) for c in range(4)
                             if abs(sm[i, c]) >= threshold))
        labels.append(comps)
    # Fill unknown pairs from the previous known label (or the next one).
    known = [lab for lab in labels if lab is not None]
    if not known:
        seg = {"start": offset, "end": offset + n_frames, "movement": "static", "magnitude": 0.0,
               "confidence": 0.0, "components": [], "motion": {}}
        return [seg], ["static"]
    last = known[0]
    for i in range(n_pairs):
        if labels[i] is None:
            labels[i] = last
        last = labels[i]
    # Runs of equal labels.
    runs = []  # [start_pair, end_pair)
    s = 0
    for i in range(1, n_pairs + 1):
        if i == n_pairs or labels[i] != labels[s]:
            runs.append([s, i])
            s = i
    # Merge runs shorter than min_segment into the neighbour whose mean motion is closest.
    min_len = max(1, min(min_segment, n_pairs))
    changed = True
    while changed and len(runs) > 1:
        changed = False
        lengths = [r[1] - r[0] for r in runs]
        j = int(np.argmin(lengths))
        if lengths[j] >= min_len:
            break
        mean_j = np.nanmean(sm[runs[j][0]:runs[j][1]], axis=0)
        best, best_d = None, np.inf
        for nb in (j - 1, j + 1):
            if 0 <= nb < len(runs):
                d = float(np.nansum(np.abs(np.nanmean(sm[runs[nb][0]:runs[nb][1]], axis=0) - mean_j)))
                if d < best_d:
                    best, best_d = nb, d
        lo, hi = min(best, j), max(best, j)
        runs[lo] = [runs[lo][0], runs[hi][1]]
        del runs[hi]
        changed = True
    # Join neighbouring runs that end up with the same classes.
    segments: list[dict] = []
    for r0, r1 in runs:
        seg = _describe(edge[r0:r1], par[r0:r1], threshold, allowed,
                        None if quality is None else quality[r0:r1])
        seg_start = offset + r0
        seg_end = offset + r1 + 1 if r1 == n_pairs else offset + r1
        if segments and segments[-1]["components"] == seg["components"]:
            prev = segments[-1]
            p0 = prev["start"] - offset
            merged = _describe(edge[p0:r1], par[p0:r1], threshold, allowed,
                               None if quality is None else quality[p0:r1])
            merged.update(start=prev["start"], end=seg_end)
            segments[-1] = merged
            continue
        seg.update(start=seg_start, end=seg_end)
        segments.append(seg)
    # Field order for readability.
    segments = [{k: s[k] for k in ("start", "end", "movement", "magnitude", "confidence",
                                   "components", "motion")} for s in segments]
    return segments, _dominant(segments)


def _describe(edge: np.ndarray, par: np.ndarray, threshold: float, allowed: set[str],
              quality: np.ndarray | None) -> dict:
    finite = np.isfinite(edge).all(axis=1)
    if not finite.any():
        return {"movement": "static", "magnitude": 0.0, "confidence": 0.0, "components": [],
                "motion": {}}
    e = edge[finite]
    mean = np.median(e, axis=0) if len(e) < 5 else _trimmed_mean(e)
    moving_par = par[finite]
    parallax = float(np.median(moving_par)) if len(moving_par) else 0.0
    # A move is a consistent drift, not jitter: a component whose pairs mostly disagree with its
    # mean (handheld shake) and whose mean is small against its spread is treated as still.
    gated = mean.copy()
    for c in range(4):
        col = e[:, c]
        agree = float(np.mean(np.sign(col) == np.sign(mean[c]))) if len(col) else 0.0
        if agree < CONSISTENCY and abs(mean[c]) < np.std(col):
            gated[c] = 0.0
    comps = classify_vector(gated, parallax, threshold, allowed)
    motion = {"dx": round(float(mean[0]), 5), "dy": round(float(mean[1]), 5),
              "zoom": round(float(mean[2]), 5), "roll": round(float(mean[3]), 5),
              "parallax": round(parallax, 3)}
    q = 1.0 if quality is None or not len(quality) else float(np.clip(np.nanmean(quality), 0, 1))
    coverage = float(finite.mean())
    if not comps:
        peak = float(np.max(np.abs(mean)))
        conf = (1.0 - min(1.0, peak / threshold) * 0.5) * coverage * (0.5 + 0.5 * q)
        if classify_vector(gated, parallax, threshold, None):
            conf = min(conf, 0.2)   # it moves, but in a way the scheme has no class for (roll)
        return {"movement": "static", "magnitude": round(peak, 5), "confidence": round(conf, 3),
                "components": [], "motion": motion}
    name, mag = comps[0]
    # Confidence: sign consistency of the main component over the segment, its margin over the
    # threshold, tracking coverage and inlier quality.
    comp = {"pan": 0, "tru": 0, "til": 1, "ped": 1, "zoo": 2, "dol": 2, "rol": 3}[name[:3]]
    signs = np.sign(e[:, comp])
    consistency = float(np.mean(signs == np.sign(mean[comp])))
    margin = min(1.0, (mag / threshold - 1.0) / 2.0 + 0.5)
    conf = consistency * margin * coverage * (0.5 + 0.5 * q)
    if name.startswith("dolly"):
        conf *= min(1.0, 0.5 + (parallax - PARALLAX_THRESHOLD) / PARALLAX_THRESHOLD)
    elif name.startswith("zoom") and parallax > 0.5 * PARALLAX_THRESHOLD:
        conf *= 0.75   # some parallax: could be a dolly
    return {"movement": name, "magnitude": round(mag, 5), "confidence": round(float(conf), 3),
            "components": [c for c, _ in comps], "motion": motion}


def _trimmed_mean(e: np.ndarray, cut: float = 0.2) -> np.ndarray:
    k = int(len(e) * cut)
    s = np.sort(e, axis=0)
    return s[k:len(e) - k].mean(axis=0) if len(e) - 2 * k > 0 else s.mean(axis=0)


def _dominant(segments: list[dict]) -> list[str]:
    """The clip's dominant classes. Static wins when still segments cover at least as many
    frames as any one movement; otherwise the movements covering >= 30 % of the frames (at least
    the widest one), strongest (length x magnitude) first, dropping those under a fifth of the
    strongest."""
    total = sum(s["end"] - s["start"] for s in segments) or 1
    score: dict[str, float] = {}
    cover: dict[str, int] = {}
    still = 0
    for s in segments:
        length = s["end"] - s["start"]
        mags = _component_mags(s)
        if not mags:
            still += length
        for name, mag in mags.items():
            score[name] = score.get(name, 0.0) + length * mag
            cover[name] = cover.get(name, 0) + length
    if not cover or still >= max(cover.values()):
        return ["static"]
    widest = max(cover, key=lambda n: (cover[n], score[n]))
    keep = [n for n in score if cover[n] / total >= 0.3 or n == widest]
    keep.sort(key=lambda n: -score[n])
    top = score[keep[0]]
    return [n for n in keep if score[n] >= 0.2 * top]


def _component_mags(seg: dict) -> dict[str, float]:
    m = seg.get("motion") or {}
    vals = {"pan": abs(m.get("dx", 0.0)), "tru": abs(m.get("dx", 0.0)),
            "til": abs(m.get("dy", 0.0)), "ped": abs(m.get("dy", 0.0)),
            "zoo": abs(m.get("zoom", 0.0)), "dol": abs(m.get("zoom", 0.0)),
            "rol": abs(m.get("roll", 0.0))}
    return {c: vals[c[:3]] for c in seg["components"]}


def classify_motion(frames: np.ndarray | Sequence[np.ndarray], *, offset: int = 0,
                    max_side: int = MAX_SIDE, scheme: str | None = None, fps: float = 0.0,
                    min_segment: int = 6, threshold: float = STATIC_THRESHOLD,
                    split_shots: bool = False) -> MotionReport:
    """Segments and dominant movement classes of an in-memory clip (N, H, W[, 3]) uint8.

    With `split_shots`, hard cuts are found first and no segment spans one."""
    frames_list = list(frames) if not isinstance(frames, np.ndarray) else frames
    n = len(frames_list)
    if n == 0:
        raise ValueError("no frames to classify")
    grays = [_to_gray(f, max_side) for f in frames_list]
    return _report_from_grays(grays, offset=offset, scheme=scheme, fps=fps, min_segment=min_segment,
                              threshold=threshold, split_shots=split_shots)


class _NoFrames(ValueError):
    pass


def _report_from_grays(grays: Iterable[np.ndarray], *, offset: int, scheme: str | None, fps: float,
                       min_segment: int, threshold: float, split_shots: bool = False,
                       progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                       total: int = 0) -> MotionReport:
    """Motion (and, with `split_shots`, cuts) of grey frames in one streaming pass."""
    finder = None
    if split_shots:
        from cinestudio.media.shots import cut_finder

        finder = cut_finder(fps or 25.0)
    stream = _PairStream()
    n, size = 0, (0, 0)
    for i, g in enumerate(grays):
        if i % 16 == 0:
            check_stop(should_stop)
            if progress is not None:
                progress(max(0, i - 1), max(total - 1, i), "motion")
        if n == 0:
            size = (g.shape[1], g.shape[0])
        stream.push(g)
        if finder is not None:
            finder.push(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR))
        n += 1
    if n == 0:
        raise _NoFrames("no frames to classify")
    pm = stream.finish()
    cuts = finder.finish() if finder is not None and n > 2 else []
    if progress is not None:
        progress(len(pm), len(pm), "motion")
    pairs = np.full((len(pm), 4), np.nan)
    par = np.zeros(len(pm))
    qual = np.zeros(len(pm))
    for i, p in enumerate(pm):
        if p.valid:
            pairs[i] = p.vector()
            par[i] = p.parallax
            qual[i] = p.inlier_ratio
    w, h = size
    bounds = [0] + cuts + [n]
    segs: list[dict] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        # pairs a .. b-2 link the frames of shot [a, b); pair b-1 would cross the cut
        s_segs, _ = classify_pairs(pairs[a:b - 1], par[a:b - 1], aspect=w / h, offset=offset + a,
                                   scheme=scheme, min_segment=min_segment, threshold=threshold,
                                   quality=qual[a:b - 1])
        segs.extend(s_segs)
    for c in cuts:
        pairs[c - 1] = np.nan   # across a cut: no camera motion
    return MotionReport(start=offset, end=offset + n, segments=segs, dominant=_dominant(segs),
                        pairs=pairs, parallax=par, fps=fps, size=(w, h),
                        cuts=[offset + c for c in cuts])


# ----------------------------------------------------------------------------------------------
# Files

def estimate_motion(path: str | os.PathLike[str], start: int = 0, end: int | None = None, *,
                    max_side: int = MAX_SIDE, scheme: str | None = None,
                    min_segment: int | None = None, threshold: float = STATIC_THRESHOLD,
                    split_shots: bool = True, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> MotionReport:
    """Camera movement of frames [start, end) of a video file (end None: to the last frame).

    With `split_shots` (default) hard cuts are found first (`shots.cuts_in_frames` on the same
    frames) and no segment spans a cut. Segments shorter than `min_segment` frames (default: half
    a second; camera moves are rarely shorter) are merged into their neighbours. Raises
    `MediaError`/`UserInputError` for unreadable files or bad ranges.
    """
    if start < 0:
        raise UserInputError(str(start), "start frame must be ≥ 0")
    if end is not None and end <= start:
        raise UserInputError(f"{start}..{end}", "end frame must be greater than start frame")
    from cinestudio.media import _frames  # local: keeps `import motion` light

    fps, count = _frames.video_info(path)
    if min_segment is None:
        min_segment = max(4, round((fps or 24) * 0.5))
    total = max(0, (min(count, end) if end is not None else count) - start) if count else 0
    frames = (g for _, g in _frames.prefetched(
        _frames.iter_small_frames(path, max_side, "gray", start, end, should_stop)))
    try:
        return _report_from_grays(frames, offset=start, scheme=scheme, fps=fps,
                                  min_segment=min_segment, threshold=threshold,
                                  split_shots=split_shots, progress=progress,
                                  should_stop=should_stop, total=total)
    except _NoFrames:
        last = end if end is not None else "end"
        raise UserInputError(os.fspath(path), f"no frames in range {start}..{last}") from None
