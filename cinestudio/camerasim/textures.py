"""Procedural textures: value noise, stripes, checkers, bricks, planks, windows, foliage.

Every generator takes a `numpy.random.Generator` and returns float32 arrays in [0, 1] (grey
(H, W) or colour (H, W, 3)); `rgba` images are premultiplied (colour already multiplied by
alpha), which is what the renderer composites and filters.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

Rng = np.random.Generator


def _resize_grid(grid: np.ndarray, w: int, h: int, tileable: bool) -> np.ndarray:
    """Cubic upsampling of a lattice to (h, w); periodic when `tileable` (wrap-padded first)."""
    gh, gw = grid.shape
    if not tileable:
        return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    pad = np.pad(grid, 2, mode="wrap")
    sh, sw = h / gh, w / gw
    big = cv2.resize(pad, (int(round((gw + 4) * sw)), int(round((gh + 4) * sh))), interpolation=cv2.INTER_CUBIC)
    y0, x0 = int(round(2 * sh)), int(round(2 * sw))
    out = big[y0:y0 + h, x0:x0 + w]
    if out.shape != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def value_noise(rng: Rng, h: int, w: int, cells: float = 4.0, octaves: int = 4, persistence: float = 0.5,
                tileable: bool = False) -> np.ndarray:
    """Fractal value noise in [0, 1], `cells` lattice cells across the smaller side at octave 0.

    Octaves are summed on a lattice that doubles each time (cheap), then one cubic resize gives
    the picture; with `tileable` the result wraps around seamlessly."""
    m = min(h, w)
    base = max(1.0, cells)
    gh = max(2, int(round(base * h / m)))
    gw = max(2, int(round(base * w / m)))
    acc = rng.random((gh, gw), dtype=np.float32)
    amp, total = 1.0, 1.0
    for _ in range(1, octaves):
        nh, nw = gh * 2, gw * 2
        amp *= persistence
        if nh >= h or nw >= w:  # finer than the pixels: per-pixel detail, and stop
            acc = _resize_grid(acc, w, h, tileable)
            acc += np.float32(amp) * rng.random((h, w), dtype=np.float32)
            total += amp
            gh, gw = h, w
            break
        acc = _resize_grid(acc, nw, nh, tileable)
        acc += np.float32(amp) * rng.random((nh, nw), dtype=np.float32)
        total += amp
        gh, gw = nh, nw
    if (gh, gw) != (h, w):
        acc = _resize_grid(acc, w, h, tileable)
    lo, hi = float(acc.min()), float(acc.max())
    return np.clip((acc - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def fbm_1d(rng: Rng, n: int, cells: float = 6.0, octaves: int = 5, persistence: float = 0.55,
           periodic: bool = True) -> np.ndarray:
    """1-D fractal noise of length n in [0, 1] (periodic: the ends meet, for panoramas)."""
    out = np.zeros(n, np.float32)
    amp, total = 1.0, 0.0
    x = np.arange(n, dtype=np.float32) / n
    for o in range(octaves):
        c = max(2, int(round(cells * 2 ** o)))
        pts = rng.random(c + 1).astype(np.float32)
        if periodic:
            pts[-1] = pts[0]
        pos = x * c
        i = np.floor(pos).astype(int)
        f = pos - i
        f = f * f * (3 - 2 * f)
        out += amp * (pts[i] * (1 - f) + pts[np.minimum(i + 1, c)] * f)
        total += amp
        amp *= persistence
    return out / total


def lerp_colors(t: np.ndarray, c0, c1) -> np.ndarray:
    c0 = np.asarray(c0, np.float32)
    c1 = np.asarray(c1, np.float32)
    return (c0 + (c1 - c0) * t[..., None]).astype(np.float32)


def jitter_color(rng: Rng, rgb, hue: float = 0.04, sat: float = 0.15, val: float = 0.15) -> tuple[float, float, float]:
    h, s, v = colorsys.rgb_to_hsv(*[float(c) for c in rgb])
    h = (h + rng.uniform(-hue, hue)) % 1.0
    s = float(np.clip(s * (1 + rng.uniform(-sat, sat)), 0, 1))
    v = float(np.clip(v * (1 + rng.uniform(-val, val)), 0, 1))
    return colorsys.hsv_to_rgb(h, s, v)


def random_color(rng: Rng, sat=(0.3, 0.9), val=(0.3, 0.95)) -> tuple[float, float, float]:
    return colorsys.hsv_to_rgb(float(rng.random()), float(rng.uniform(*sat)), float(rng.uniform(*val)))


def stripes(h: int, w: int, period: float, angle_deg: float = 0.0, duty: float = 0.5,
            softness: float = 0.1) -> np.ndarray:
    """Periodic stripes in [0, 1]; `period` in pixels (tileable when the period divides the size)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle_deg)
    d = (xx * math.cos(a) + yy * math.sin(a)) / period
    f = d - np.floor(d)
    s = max(softness, 1e-3)
    return np.clip((np.abs(f - 0.5) - (0.5 - duty / 2)) / s + 0.5, 0, 1).astype(np.float32)


def checker(h: int, w: int, nx: int, ny: int | None = None) -> np.ndarray:
    ny = ny or nx
    yy, xx = np.mgrid[0:h, 0:w]
    return (((xx * nx // w) + (yy * ny // h)) % 2).astype(np.float32)


def bricks(rng: Rng, h: int, w: int, rows: int, cols: int, mortar: float = 0.08) -> np.ndarray:
    """Brick pattern: per-brick brightness in (0.5, 1], mortar 0 (tileable for even rows)."""
    out = np.zeros((h, w), np.float32)
    bh = h / rows
    bw = w / cols
    shade = rng.uniform(0.55, 1.0, size=(rows, cols + 1)).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = np.floor(yy / bh).astype(int)
    off = (row % 2) * bw / 2
    col = np.floor((xx + off) / bw).astype(int)
    fy = yy / bh - row
    fx = (xx + off) / bw - col
    m = (fy > mortar) & (fx > mortar / 2) & (fx < 1 - mortar / 2)
    out[m] = shade[row[m] % rows, col[m] % (cols + 1)]
    return out


def planks(rng: Rng, h: int, w: int, n: int) -> np.ndarray:
    """Wood planks along x: grain noise, per-plank tone, dark seams."""
    grain = value_noise(rng, h, w * 4, cells=3, octaves=3)
    grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_AREA)
    streak = cv2.resize(rng.random((h, 6), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    yy = np.arange(h, dtype=np.float32)[:, None]
    plank = np.floor(yy * n / h).astype(int)
    tone = rng.uniform(0.7, 1.0, size=n + 1).astype(np.float32)[plank]
    seam = ((yy * n / h) % 1.0 < 0.06).astype(np.float32)
    out = (0.55 + 0.25 * grain + 0.2 * streak) * tone
    return np.clip(out * (1 - 0.6 * seam), 0, 1).astype(np.float32)


def blob_alpha(rng: Rng, h: int, w: int, lumps: int = 8, roughness: float = 0.25, cells: float = 6.0) -> np.ndarray:
    """A soft irregular blob in [0, 1] (foliage canopies, bushes, rocks), inside its canvas."""
    a = np.zeros((h, w), np.float32)
    for _ in range(lumps):
        cx = rng.uniform(0.3, 0.7) * w
        cy = rng.uniform(0.3, 0.7) * h
        rx = rng.uniform(0.15, 0.3) * w
        ry = rng.uniform(0.15, 0.3) * h
        cv2.ellipse(a, (int(cx), int(cy)), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    n = value_noise(rng, h, w, cells=cells, octaves=3)
    a = cv2.GaussianBlur(a, (0, 0), max(0.5, min(h, w) * 0.04))
    a = np.clip((a - 0.5 + roughness * (n - 0.5)) * 6 + 0.5, 0, 1)
    return a.astype(np.float32)


def rgba(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Premultiplied RGBA float32 from straight RGB and an alpha (default opaque)."""
    rgb = np.asarray(rgb, np.float32)
    if alpha is None:
        alpha = np.ones(rgb.shape[:2], np.float32)
    a = np.asarray(alpha, np.float32)[..., None]
    return np.concatenate([rgb * a, a], axis=2).astype(np.float32)


def u8_rgba_to_premult(img: np.ndarray) -> np.ndarray:
    """cv2 anti-aliased drawing on a zero RGBA canvas yields premultiplied colour already."""
    return (img.astype(np.float32) / 255.0)


def mipmaps(img: np.ndarray, min_size: int = 4) -> list[np.ndarray]:
    levels = [np.ascontiguousarray(img, dtype=np.float32)]
    while min(levels[-1].shape[:2]) > min_size * 2:
        levels.append(cv2.pyrDown(levels[-1]))
    return levels
