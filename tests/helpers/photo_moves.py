"""Camera moves synthesised over REAL photographs (scikit-image's sample photos).

A virtual camera looks at a photograph through a crop window; moving the window is a pan or a
tilt, scaling it about its centre is a zoom, rotating it is a roll. Two photographs at different
depths (a near cut-out over a far background, each moving at its own rate) give parallax for
dolly and truck moves. Directions follow TAXONOMY.md and are the CAMERA's:

- pan_left: the camera turns left, so the picture content moves RIGHT (window slides left);
- tilt_up: content moves DOWN (window slides up);
- zoom_in: content grows (window shrinks);
- roll_clockwise: the camera rolls clockwise (seen from behind it), so content turns anticlockwise.

The photographs come from the installed scikit-image wheel (read as files, scikit-image itself is
never imported); `photo()` returns None when it is absent, and tests skip with that reason.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np

# Real photographs shipped in scikit-image's wheel (skimage/data): natural scenes and objects.
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
          "camera.png", "coins.png", "moon.png", "hubble_deep_field.jpg", "retina.jpg",
          "brick.png", "gravel.png", "ihc.png", "grass.png")

MOVES = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
         "roll_clockwise", "roll_anticlockwise", "dolly_in", "dolly_out", "truck_left", "truck_right")

SKIP_REASON = "scikit-image is not installed: its sample photographs are the real-photo test data"


def photo_dir() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(list(spec.submodule_search_locations)[0]) / "data"
    return d if (d / "astronaut.png").is_file() else None


def photo(name: str) -> np.ndarray | None:
    """An RGB uint8 photograph from scikit-image's data folder (grey ones as 3 channels)."""
    d = photo_dir()
    if d is None:
        return None
    img = cv2.imread(str(d / name), cv2.IMREAD_COLOR)
    if img is None:
        return None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _window(img: np.ndarray, cx: float, cy: float, scale: float, angle: float,
            size: tuple[int, int]) -> np.ndarray:
    """The output frame of `size` (w, h) seeing `img` through a window centred at (cx, cy),
    `scale` source pixels per output pixel, rotated by `angle` radians (window turns clockwise on
    screen for positive angle, so content turns anticlockwise)."""
    w, h = size
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    # output (u, v) -> source (x, y):  [x, y] = R(angle)*scale*[u - w/2, v - h/2] + [cx, cy]
    m = np.array([[c, -s, cx - c * w / 2 + s * h / 2],
                  [s, c, cy - s * w / 2 - c * h / 2]], dtype=np.float64)
    interp = cv2.INTER_AREA if scale > 1.3 else cv2.INTER_LINEAR
    if interp == cv2.INTER_AREA:
        # INTER_AREA is not supported by warpAffine: pre-blur to avoid aliasing instead.
        k = int(scale) | 1
        img = cv2.GaussianBlur(img, (k, k), scale / 2.5)
        interp = cv2.INTER_LINEAR
    return cv2.warpAffine(img, m, (w, h), flags=interp | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT101)


def photo_move(img: np.ndarray, move: str, frames: int = 16, size: tuple[int, int] = (128, 96),
               speed: float = 1.0, noise: float = 0.0, shake: float = 0.0,
               rng: np.random.Generator | int | None = 0, near: np.ndarray | None = None,
               mover: np.ndarray | None = None) -> np.ndarray:
    """`frames` RGB frames (F, H, W, 3) of `move` over photograph `img`.

    `speed` 1.0 is a brisk move: 1.5 % of the frame width per frame for pans/tilts/trucks,
    1.5 % scale change per frame for zooms/dollies, 0.8 degree per frame for rolls.
    `noise` is the Gaussian pixel noise sigma (0-255 scale); `shake` adds handheld jitter of about
    that many output pixels (smooth, zero-mean, no drift). Dolly and truck need `near`, a second
    photograph shown as a nearer cut-out that moves 3x faster than the far background.
    `mover`, a photograph, is a subject that moves on its own: an oval cut-out of it (30 % of the
    frame wide) walks across the far photograph at 2 % of the frame width per frame, whatever the
    camera does (a static camera with a moving subject is still static).
    """
    if move not in MOVES:
        raise ValueError(f"unknown move {move!r}")
    rng = np.random.default_rng(rng)
    w, h = size
    ih, iw = img.shape[:2]
    # Window scale: leave room for the move inside the photo.
    span = 1.0 + 0.015 * speed * frames + 0.1
    scale = min(iw / (w * span), ih / (h * span))
    if move.startswith("roll"):
        scale = min(iw, ih) / (math.hypot(w, h) * 1.05)
    if move in ("zoom_out", "dolly_out"):
        scale /= math.exp(0.015 * speed * frames) * 1.02
    cx0, cy0 = iw / 2, ih / 2
    v = 0.015 * speed * w * scale   # source pixels per frame for a pan
    vy = 0.015 * speed * w * scale
    k = 0.015 * speed               # log-scale per frame
    a = math.radians(0.8) * speed   # radians per frame
    jitter = np.zeros((frames, 2))
    if shake > 0:
        # Handheld shake: smooth zero-mean jitter of about `shake` px, no drift.
        raw = rng.normal(0, 1, size=(frames + 8, 2))
        kern = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
        sm = np.stack([np.convolve(raw[:, i], kern / kern.sum(), mode="same") for i in range(2)], 1)[4:-4]
        sm -= sm.mean(axis=0)
        jitter = sm / (sm.std(axis=0) + 1e-9) * shake
    walk = _walker(mover, rng, cx0, cy0, w, h, scale) if mover is not None else None
    out = []
    for t in range(frames):
        cx, cy, sc, ang = cx0, cy0, scale, 0.0
        src = img if walk is None else walk(img, t - (frames - 1) / 2)
        tt = t - (frames - 1) / 2
        if move in ("pan_left", "truck_left"):
            cx = cx0 - v * tt
        elif move in ("pan_right", "truck_right"):
            cx = cx0 + v * tt
        elif move == "tilt_up":
            cy = cy0 - vy * tt
        elif move == "tilt_down":
            cy = cy0 + vy * tt
        elif move in ("zoom_in", "dolly_in"):
            sc = scale * math.exp(-k * t)
        elif move in ("zoom_out", "dolly_out"):
            sc = scale * math.exp(k * t)
        elif move == "roll_clockwise":
            ang = a * tt
        elif move == "roll_anticlockwise":
            ang = -a * tt
        if move.startswith(("dolly", "truck")):
            # The far background barely moves; the near cut-out carries the motion (parallax).
            if near is None:
                raise ValueError(f"{move} needs a `near` photograph for parallax")
            far_sc = scale * (sc / scale) ** 0.25
            far_cx = cx0 + (cx - cx0) * 0.25
            bg = _window(src, far_cx + jitter[t, 0] * scale, cy + jitter[t, 1] * scale, far_sc, 0.0, size)
            frame = _near_layer(bg, near, t, tt, move, k, v / scale, w, h, jitter[t])
        else:
            frame = _window(src, cx + jitter[t, 0] * scale, cy + jitter[t, 1] * scale, sc, ang, size)
        out.append(frame)
    arr = np.stack(out).astype(np.float32)
    if noise > 0:
        arr += rng.normal(0, noise, size=arr.shape).astype(np.float32)
    return np.clip(arr + 0.5, 0, 255).astype(np.uint8)


def _walker(mover: np.ndarray, rng: np.random.Generator, cx0: float, cy0: float, w: int, h: int, scale: float):
    """`walk(img, tt)`: `img` with an oval cut-out of `mover` pasted where the walking subject is at
    time `tt` (frames from the clip's middle); it crosses the frame centre, left or right."""
    mw = max(4, int(round(0.3 * w * scale)))
    mh = max(4, int(round(1.3 * mw)))
    cut = cv2.resize(mover, (mw, mh), interpolation=cv2.INTER_AREA).astype(np.float32)
    yy, xx = np.mgrid[0:mh, 0:mw]
    r = ((xx - (mw - 1) / 2) / (mw / 2)) ** 2 + ((yy - (mh - 1) / 2) / (mh / 2)) ** 2
    alpha = np.clip((1.0 - r) * 8.0, 0.0, 1.0)[..., None].astype(np.float32)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    vx = direction * 0.02 * w * scale
    vy = float(rng.uniform(-0.3, 0.3)) * 0.02 * w * scale
    x0 = cx0 + float(rng.uniform(-0.1, 0.1)) * w * scale
    y0 = cy0 + float(rng.uniform(-0.05, 0.15)) * h * scale

    def walk(img: np.ndarray, tt: float) -> np.ndarray:
        out = img.astype(np.float32)
        x = int(round(x0 + vx * tt - mw / 2))
        y = int(round(y0 + vy * tt - mh / 2))
        ih, iw = img.shape[:2]
        a0, b0, a1, b1 = max(0, y), max(0, x), min(ih, y + mh), min(iw, x + mw)
        if a0 < a1 and b0 < b1:
            c, al = cut[a0 - y:a1 - y, b0 - x:b1 - x], alpha[a0 - y:a1 - y, b0 - x:b1 - x]
            out[a0:a1, b0:b1] = out[a0:a1, b0:b1] * (1 - al) + c * al
        return out.clip(0, 255).astype(np.uint8)

    return walk


def _near_layer(bg: np.ndarray, near: np.ndarray, t: int, tt: float, move: str, k: float,
                v_out: float, w: int, h: int, jit: np.ndarray) -> np.ndarray:
    """Composite a near photograph cut-out (an ellipse filling ~45% of the frame) over `bg`."""
    nh, nw = near.shape[:2]
    base = 0.55 * w  # cut-out width in output pixels at t = 0
    if move == "dolly_in":
        grow = math.exp(1.0 * k * t)
    elif move == "dolly_out":
        grow = math.exp(-1.0 * k * t) * math.exp(1.0 * k * 0)
    else:
        grow = 1.0
    if move == "dolly_out":
        base *= 1.6
    cw = base * grow
    ch = cw * 0.75
    # The cut-out sits left of centre, so a dolly both grows it and pushes it outward.
    ox, oy = -0.12 * w, 0.05 * h
    # A shaking camera moves all content the same way, near content more (3x the background).
    # The background's window shifts by +jit, so its content moves by -jit: so does the cut-out.
    cx = w / 2 + ox * grow - jit[0] * 3
    cy = h / 2 + oy * grow - jit[1] * 3
    if move == "truck_left":
        cx += 3.0 * v_out * tt   # camera moves left: near content moves right, fast
    elif move == "truck_right":
        cx -= 3.0 * v_out * tt
    s = min(nw, nh) / max(cw, ch) * 0.9
    m = np.array([[s, 0, nw / 2 - s * cx], [0, s, nh / 2 - s * cy]], dtype=np.float64)
    layer = cv2.warpAffine(near, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REFLECT101)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = (((xx - cx) / (cw / 2)) ** 2 + ((yy - cy) / (ch / 2)) ** 2) <= 1.0
    out = bg.copy()
    out[mask] = layer[mask]
    return out


def flicker(frames: np.ndarray, at: list[int], gain: float = 1.8, length: int = 1) -> np.ndarray:
    """Brightness flashes (a photographer's flash, lightning): frames at `at` multiplied by `gain`."""
    out = frames.astype(np.float32).copy()
    for i in at:
        out[i:i + length] *= gain
    return np.clip(out, 0, 255).astype(np.uint8)


def shot_montage(shots: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Concatenate shots; return the frames and the cuts (first frame of each new shot)."""
    cuts, n = [], 0
    for s in shots[:-1]:
        n += len(s)
        cuts.append(n)
    return np.concatenate(shots), cuts
