"""Procedural human figures as sprites: a body, a head with a face, and a top view.

A figure is drawn from a `FigureStyle` (height, build, skin, hair, clothes, glasses...) at a given
texel density (texels per metre), so a close-up gets a detailed face and a long shot a small
sprite. Views: ``front`` (facing the camera), ``side`` (profile, walking, legs by gait phase),
``back``, and ``top`` (seen from above, for overhead shots). Proportions follow a standard adult
figure of ~7.5 heads: eyes at 0.935 H, chin 0.87 H, shoulders 0.82 H, waist 0.6 H, hips 0.5 H.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from cinestudio.camerasim.textures import checker, jitter_color, random_color, stripes, value_noise

SHIFT = 4
SCALE = 1 << SHIFT

SKIN_TONES = [(0.98, 0.84, 0.72), (0.94, 0.76, 0.62), (0.87, 0.66, 0.5), (0.76, 0.55, 0.4),
              (0.6, 0.42, 0.3), (0.45, 0.3, 0.21), (0.33, 0.22, 0.16)]
HAIR_COLOURS = [(0.08, 0.06, 0.05), (0.2, 0.13, 0.08), (0.38, 0.24, 0.12), (0.62, 0.45, 0.25),
                (0.85, 0.72, 0.45), (0.55, 0.2, 0.1), (0.6, 0.6, 0.6), (0.9, 0.9, 0.88)]
IRIS_COLOURS = [(0.25, 0.15, 0.08), (0.35, 0.22, 0.1), (0.2, 0.35, 0.55), (0.3, 0.45, 0.3), (0.4, 0.4, 0.45)]


@dataclass(frozen=True)
class FigureStyle:
    height: float
    build: float
    skin: tuple
    hair: tuple
    hair_style: str  # short, long, bald, bun, hat
    iris: tuple
    shirt: tuple
    shirt2: tuple
    shirt_pattern: str  # plain, stripes, checker, noise
    trousers: tuple
    shoes: tuple
    sleeves: str  # long, short
    dress: bool
    glasses: bool
    beard: bool
    hat_colour: tuple


@dataclass
class Sprite:
    """A premultiplied RGBA image spanning x in [-width/2, width/2] and y in [bottom, bottom+height]
    metres in its own plane (y up)."""

    rgba: np.ndarray
    width: float
    height: float
    bottom: float = 0.0
    x_center: float = 0.0


def random_style(rng: np.random.Generator, height: float | None = None) -> FigureStyle:
    dress = bool(rng.random() < 0.2)
    hair_style = str(rng.choice(["short", "short", "long", "long", "bald", "bun", "hat"]))
    return FigureStyle(
        height=float(height if height is not None else rng.uniform(1.55, 1.95)),
        build=float(rng.uniform(0.85, 1.2)),
        skin=jitter_color(rng, SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], 0.01, 0.1, 0.06),
        hair=jitter_color(rng, HAIR_COLOURS[int(rng.integers(len(HAIR_COLOURS)))], 0.02, 0.1, 0.1),
        hair_style=hair_style,
        iris=IRIS_COLOURS[int(rng.integers(len(IRIS_COLOURS)))],
        shirt=random_color(rng),
        shirt2=random_color(rng),
        shirt_pattern=str(rng.choice(["plain", "plain", "stripes", "checker", "noise"])),
        trousers=random_color(rng, sat=(0.1, 0.6), val=(0.12, 0.6)),
        shoes=random_color(rng, sat=(0.0, 0.5), val=(0.05, 0.5)),
        sleeves=str(rng.choice(["long", "short"])),
        dress=dress,
        glasses=bool(rng.random() < 0.2),
        beard=bool((not dress) and rng.random() < 0.15),
        hat_colour=random_color(rng, sat=(0.2, 0.8), val=(0.15, 0.8)),
    )


class _Canvas:
    """RGBA uint8 canvas in metres: x from -w/2..w/2, y from bottom..bottom+h (up)."""

    def __init__(self, width_m: float, height_m: float, bottom_m: float, ppm: float):
        self.w_m, self.h_m, self.b_m, self.ppm = width_m, height_m, bottom_m, ppm
        self.W = max(4, int(round(width_m * ppm)))
        self.H = max(4, int(round(height_m * ppm)))
        self.img = np.zeros((self.H, self.W, 4), np.uint8)

    def p(self, x: float, y: float) -> tuple[int, int]:
        return (int(round((x + self.w_m / 2) * self.ppm * SCALE)),
                int(round((self.b_m + self.h_m - y) * self.ppm * SCALE)))

    def r(self, length_m: float) -> int:
        return max(1, int(round(length_m * self.ppm * SCALE)))

    def px(self, length_m: float) -> int:
        return max(1, int(round(length_m * self.ppm)))

    @staticmethod
    def col(rgb, a: float = 1.0) -> tuple[int, int, int, int]:
        return (int(rgb[0] * 255), int(rgb[1] * 255), int(rgb[2] * 255), int(255 * a))

    def poly(self, pts, rgb, target=None):
        arr = np.array([self.p(x, y) for x, y in pts], np.int32)
        img = self.img if target is None else target
        c = self.col(rgb) if target is None else 255
        cv2.fillPoly(img, [arr], c, cv2.LINE_AA, SHIFT)

    def ellipse(self, x, y, rx, ry, rgb, angle=0.0, target=None, start=0, end=360):
        img = self.img if target is None else target
        c = self.col(rgb) if target is None else 255
        cv2.ellipse(img, self.p(x, y), (self.r(rx), self.r(ry)), angle, start, end, c, -1, cv2.LINE_AA, SHIFT)

    def line(self, pts, rgb, width_m, target=None):
        img = self.img if target is None else target
        c = self.col(rgb) if target is None else 255
        arr = np.array([self.p(x, y) for x, y in pts], np.int32)
        t = max(1, int(round(width_m * self.ppm)))
        cv2.polylines(img, [arr], False, c, t, cv2.LINE_AA, SHIFT)
        # round joints and caps
        for x, y in pts:
            cv2.circle(img, self.p(x, y), self.r(width_m / 2), c, -1, cv2.LINE_AA, SHIFT)

    def sprite(self) -> Sprite:
        return Sprite(self.img.astype(np.float32) / 255.0, self.w_m, self.h_m, self.b_m)


def _pattern(rng: np.random.Generator, style: FigureStyle, h: int, w: int, ppm: float) -> list:
    """The shirt's pattern as three colour planes."""
    c1 = np.asarray(style.shirt, np.float32)
    c2 = np.asarray(style.shirt2, np.float32)
    if style.shirt_pattern == "stripes":
        t = stripes(h, w, period=max(2.0, 0.035 * ppm), angle_deg=float(rng.choice([0.0, 90.0, 45.0])))
    elif style.shirt_pattern == "checker":
        n = max(2, int(w / max(2.0, 0.05 * ppm)))
        t = checker(h, w, n, max(2, int(h / max(2.0, 0.05 * ppm))))
    elif style.shirt_pattern == "noise":
        t = value_noise(rng, h, w, cells=max(2.0, min(h, w) / max(2.0, 0.04 * ppm)), octaves=2)
    else:
        t = np.zeros((h, w), np.float32)
    t = t.astype(np.float32)
    return [np.float32(c1[i]) + np.float32(c2[i] - c1[i]) * t for i in range(3)]


def _finish(canvas: _Canvas, rng: np.random.Generator, style: FigureStyle, shirt_mask: np.ndarray,
            shade_center: float = 0.0, shade_halfwidth: float = 0.15, cache: dict | None = None) -> Sprite:
    img = canvas.img.astype(np.float32)
    img *= np.float32(1.0 / 255.0)
    h, w = img.shape[:2]
    key = (h, w, shade_center, shade_halfwidth)
    hit = cache.get(key) if cache is not None else None
    if hit is None:
        pat = _pattern(rng, style, h, w, canvas.ppm) if style.shirt_pattern != "plain" else None
        # cylinder-like shading across the body and a little cloth noise (noise made small, then enlarged)
        xs = (np.arange(w, dtype=np.float32) + 0.5) / canvas.ppm - canvas.w_m / 2 - shade_center
        shade = 1.0 - 0.35 * np.clip(np.abs(xs) / max(shade_halfwidth * style.height, 1e-3), 0, 1.3) ** 2
        cells = max(2.0, canvas.h_m / 0.06)
        nh = int(min(h, max(8, cells * 3)))
        nw = int(min(w, max(8, nh * w / max(h, 1))))
        noise = cv2.resize(value_noise(rng, nh, nw, cells=cells * nh / h if nh < h else cells, octaves=2), (w, h),
                           interpolation=cv2.INTER_LINEAR)
        mult = ((0.92 + 0.16 * noise) * shade[None, :]).astype(np.float32)
        hit = (pat, mult)
        if cache is not None:
            cache[key] = hit
    pat, mult = hit
    planes = list(cv2.split(img))  # per-channel planes: fast element-wise work
    a = planes[3]
    m = None
    if pat is not None and shirt_mask.any():
        m = shirt_mask.astype(np.float32)
        m *= np.float32(1.0 / 255.0)
        m *= a
    for c in range(3):
        pc = planes[c]
        if m is not None:
            pc += m * (pat[c] - pc)
        pc *= mult
        np.minimum(pc, a, out=pc)
    return Sprite(cv2.merge(planes), canvas.w_m, canvas.h_m, canvas.b_m)


def draw_body(style: FigureStyle, rng: np.random.Generator, ppm: float, view: str = "front",
              phase: float = 0.0, bottom_frac: float = 0.0, cache: dict | None = None) -> Sprite:
    """The body without the head (neck included), standing (phase 0) or mid-stride; with
    `bottom_frac` > 0 only the part above that fraction of the height (for close framings)."""
    H, b = style.height, style.build
    c = _Canvas(0.62 * H, (0.9 - bottom_frac) * H, bottom_frac * H, ppm)
    shirt_mask = np.zeros((c.H, c.W), np.uint8)
    skin, shirt, trousers, shoes = style.skin, style.shirt, style.trousers, style.shoes
    sleeve_end = 0.47 if style.sleeves == "long" else 0.66
    if view == "side":
        swing = math.sin(phase) * 0.32
        hip = (0.0, 0.5 * H)
        for sgn, shade in ((-1, 0.75), (1, 1.0)):  # far leg darker
            a = sgn * swing
            knee = (hip[0] + math.sin(a) * 0.25 * H, hip[1] - math.cos(a) * 0.25 * H)
            kb = max(0.0, -sgn * math.sin(phase)) * 0.35
            ankle = (knee[0] + math.sin(a - kb) * 0.235 * H, knee[1] - math.cos(a - kb) * 0.235 * H)
            col = tuple(v * shade for v in trousers)
            c.line([hip, knee, ankle], col, 0.075 * H)
            c.ellipse(ankle[0] + 0.03 * H, ankle[1] - 0.01 * H, 0.045 * H, 0.018 * H,
                      tuple(v * shade for v in shoes))
        # far arm, torso, near arm
        arm_a = -swing * 0.8
        for sgn, shade in ((-1, 0.75), (1, 1.0)):
            a = sgn * arm_a
            sh = (0.0, 0.8 * H)
            el = (sh[0] + math.sin(a) * 0.17 * H, sh[1] - math.cos(a) * 0.17 * H)
            wr = (el[0] + math.sin(a + 0.25) * 0.16 * H, el[1] - math.cos(a + 0.25) * 0.16 * H)
            col = tuple(v * shade for v in shirt)
            if sgn < 0:
                c.line([sh, el, wr], col if style.sleeves == "long" else tuple(v * shade for v in skin), 0.045 * H)
                c.ellipse(wr[0], wr[1], 0.022 * H, 0.026 * H, tuple(v * shade for v in skin))
            else:
                far_arm = (sh, el, wr, col)
        torso = [(-0.07 * H * b, 0.82 * H), (0.07 * H * b, 0.82 * H), (0.075 * H * b, 0.6 * H),
                 (0.08 * H * b, 0.48 * H), (-0.075 * H * b, 0.48 * H), (-0.075 * H * b, 0.6 * H)]
        c.poly(torso, shirt)
        c.poly(torso, shirt, target=shirt_mask)
        if style.dress:
            skirt = [(-0.08 * H, 0.55 * H), (0.08 * H, 0.55 * H), (0.15 * H, 0.3 * H), (-0.12 * H, 0.3 * H)]
            c.poly(skirt, shirt)
            c.poly(skirt, shirt, target=shirt_mask)
        c.poly([(-0.022 * H, 0.8 * H), (0.025 * H, 0.8 * H), (0.03 * H, 0.885 * H), (-0.02 * H, 0.885 * H)], skin)
        sh, el, wr, col = far_arm
        if style.sleeves == "long":
            c.line([sh, el, wr], col, 0.048 * H)
        else:
            c.line([el, wr], skin, 0.042 * H)
            c.line([sh, el], col, 0.052 * H)
        c.ellipse(wr[0], wr[1], 0.022 * H, 0.026 * H, skin)
        return _finish(c, rng, style, shirt_mask, 0.0, 0.09, cache)
    # front / back
    stride = math.sin(phase) * 0.015 * H
    for sgn in (-1, 1):
        x = sgn * 0.052 * H * b
        lift = max(0.0, sgn * stride)
        c.poly([(x - 0.042 * H, 0.52 * H), (x + 0.042 * H, 0.52 * H), (x + 0.031 * H, 0.035 * H + lift),
                (x - 0.031 * H, 0.035 * H + lift)], trousers)
        c.ellipse(x + sgn * 0.006 * H, 0.02 * H + lift, 0.036 * H, 0.022 * H, shoes)
    if style.dress:
        skirt = [(-0.1 * H * b, 0.6 * H), (0.1 * H * b, 0.6 * H), (0.16 * H * b, 0.3 * H), (-0.16 * H * b, 0.3 * H)]
        c.poly(skirt, shirt)
        c.poly(skirt, shirt, target=shirt_mask)
    for sgn in (-1, 1):  # arms
        sh = (sgn * 0.125 * H * b, 0.8 * H)
        el = (sgn * 0.15 * H * b, 0.635 * H)
        wr = (sgn * 0.16 * H * b, 0.475 * H)
        if style.sleeves == "long":
            c.line([sh, el, wr], shirt, 0.052 * H)
            c.line([sh, el, wr], shirt, 0.052 * H, target=shirt_mask)
        else:
            c.line([el, wr], skin, 0.042 * H)
            c.line([sh, (sgn * 0.14 * H * b, 0.68 * H)], shirt, 0.056 * H)
        c.ellipse(wr[0], wr[1] - 0.02 * H, 0.022 * H, 0.03 * H, skin)
    torso = [(-0.13 * H * b, 0.815 * H), (0.13 * H * b, 0.815 * H), (0.12 * H * b, 0.74 * H),
             (0.095 * H * b, 0.6 * H), (0.105 * H * b, 0.5 * H), (-0.105 * H * b, 0.5 * H),
             (-0.095 * H * b, 0.6 * H), (-0.12 * H * b, 0.74 * H)]
    c.poly(torso, shirt)
    c.poly(torso, shirt, target=shirt_mask)
    c.ellipse(0, 0.815 * H, 0.13 * H * b, 0.02 * H, shirt)  # rounded shoulders
    c.ellipse(0, 0.815 * H, 0.13 * H * b, 0.02 * H, shirt, target=shirt_mask)
    if not style.dress:
        c.poly([(-0.105 * H * b, 0.515 * H), (0.105 * H * b, 0.515 * H), (0.105 * H * b, 0.5 * H),
                (-0.105 * H * b, 0.5 * H)], tuple(v * 0.5 for v in trousers))  # belt
    neck_col = style.hair if (view == "back" and style.hair_style == "long") else skin
    c.poly([(-0.028 * H, 0.8 * H), (0.028 * H, 0.8 * H), (0.026 * H, 0.885 * H), (-0.026 * H, 0.885 * H)], neck_col)
    if view == "front":  # collar
        c.poly([(-0.03 * H, 0.818 * H), (0.03 * H, 0.818 * H), (0.0, 0.79 * H)], tuple(v * 0.8 for v in skin))
    return _finish(c, rng, style, shirt_mask, 0.0, 0.14 * b, cache)


def draw_head(style: FigureStyle, rng: np.random.Generator, ppm: float, view: str = "front") -> Sprite:
    """The head (chin at 0.87 H, top at H) with a face: eyes, brows, nose, mouth, ears, hair."""
    H = style.height
    c = _Canvas(0.22 * H, 0.24 * H, 0.8 * H, ppm)
    skin, hair = style.skin, style.hair
    cy = 0.935 * H
    rx, ry = 0.044 * H, 0.066 * H
    dark = tuple(v * 0.55 for v in skin)
    long_hair = style.hair_style == "long"
    if view == "back":
        if long_hair:
            c.poly([(-0.055 * H, 0.94 * H), (0.055 * H, 0.94 * H), (0.06 * H, 0.85 * H), (-0.06 * H, 0.85 * H)], hair)
            c.ellipse(0, 0.85 * H, 0.06 * H, 0.018 * H, hair)
        c.ellipse(-rx * 1.02, cy, 0.009 * H, 0.015 * H, dark)
        c.ellipse(rx * 1.02, cy, 0.009 * H, 0.015 * H, dark)
        c.ellipse(0, cy + 0.004 * H, rx * 1.04, ry * 1.02, hair if style.hair_style != "bald" else skin)
        if style.hair_style == "hat":
            c.ellipse(0, cy + 0.035 * H, rx * 1.12, ry * 0.55, style.hat_colour, start=180, end=360)
        return _shade_head(c, rng, style, cy)
    if view == "side":
        if long_hair:
            c.poly([(-0.05 * H, 0.97 * H), (0.0, 0.97 * H), (-0.01 * H, 0.83 * H), (-0.06 * H, 0.84 * H)], hair)
        hair_back = style.hair if style.hair_style != "bald" else skin
        if style.hair_style != "bald":
            c.ellipse(-0.01 * H, cy + 0.006 * H, rx * 1.08, ry * 1.0, hair_back)
        c.ellipse(0.004 * H, cy - 0.006 * H, rx * 0.98, ry * 0.93, skin)
        if style.hair_style != "bald":
            c.ellipse(-0.006 * H, cy + 0.016 * H, rx * 1.04, ry * 0.62, hair_back, start=180, end=330)
        # nose, lips, chin
        c.poly([(0.043 * H, 0.935 * H), (0.058 * H, 0.905 * H), (0.044 * H, 0.9 * H)], skin)
        c.ellipse(0.04 * H, 0.885 * H, 0.006 * H, 0.004 * H, (0.7 * skin[0] + 0.2, 0.45 * skin[1], 0.45 * skin[2]))
        c.ellipse(-0.008 * H, 0.93 * H, 0.009 * H, 0.016 * H, dark)  # ear
        # eye
        c.ellipse(0.03 * H, 0.937 * H, 0.006 * H, 0.0035 * H, (0.95, 0.95, 0.93))
        c.ellipse(0.033 * H, 0.937 * H, 0.0028 * H, 0.0032 * H, style.iris)
        c.ellipse(0.028 * H, 0.95 * H, 0.01 * H, 0.0022 * H, tuple(v * 0.8 for v in hair), angle=8)
        if style.hair_style == "hat":
            c.ellipse(0.0, cy + 0.04 * H, rx * 1.2, ry * 0.5, style.hat_colour, start=180, end=360)
            c.ellipse(0.03 * H, cy + 0.035 * H, 0.05 * H, 0.006 * H, style.hat_colour)
        if style.glasses:
            c.line([(0.022 * H, 0.94 * H), (0.04 * H, 0.94 * H)], (0.1, 0.1, 0.1), 0.003 * H)
            c.line([(0.022 * H, 0.94 * H), (-0.005 * H, 0.938 * H)], (0.1, 0.1, 0.1), 0.002 * H)
        return _shade_head(c, rng, style, cy, x0=-0.004 * H)
    # front
    if long_hair:
        c.ellipse(0, 0.93 * H, 0.058 * H, 0.075 * H, hair)
        c.poly([(-0.058 * H, 0.93 * H), (0.058 * H, 0.93 * H), (0.06 * H, 0.85 * H), (-0.06 * H, 0.85 * H)], hair)
        c.ellipse(0, 0.85 * H, 0.06 * H, 0.018 * H, hair)
    for sgn in (-1, 1):
        c.ellipse(sgn * rx * 1.0, 0.93 * H, 0.009 * H, 0.016 * H, dark)
    c.ellipse(0, cy, rx, ry, skin)
    if style.beard:
        c.ellipse(0, 0.895 * H, rx * 0.9, ry * 0.5, hair, start=0, end=180)
    # eyes
    for sgn in (-1, 1):
        ex = sgn * 0.018 * H
        c.ellipse(ex, 0.935 * H, 0.0088 * H, 0.0042 * H, (0.96, 0.95, 0.93))
        c.ellipse(ex, 0.935 * H, 0.0039 * H, 0.0039 * H, style.iris)
        c.ellipse(ex, 0.935 * H, 0.0017 * H, 0.0017 * H, (0.02, 0.02, 0.02))
        c.ellipse(ex + 0.0012 * H, 0.9363 * H, 0.0007 * H, 0.0007 * H, (1.0, 1.0, 1.0))
        c.ellipse(ex, 0.9385 * H, 0.0092 * H, 0.0016 * H, tuple(v * 0.45 for v in skin))  # upper lid
        c.line([(ex - sgn * 0.009 * H, 0.9465 * H), (ex + sgn * 0.0015 * H, 0.949 * H), (ex + sgn * 0.0105 * H, 0.947 * H)],
               tuple(v * 0.8 for v in hair), 0.0028 * H)
    # nose and mouth
    c.ellipse(0, 0.915 * H, 0.0055 * H, 0.0045 * H, tuple(v * 0.85 for v in skin))
    for sgn in (-1, 1):
        c.ellipse(sgn * 0.004 * H, 0.912 * H, 0.0018 * H, 0.0012 * H, tuple(v * 0.45 for v in skin))
    lips = (min(1.0, skin[0] * 0.8 + 0.15), skin[1] * 0.5, skin[2] * 0.5)
    c.ellipse(0, 0.8905 * H, 0.0135 * H, 0.0042 * H, lips)
    c.line([(-0.013 * H, 0.8907 * H), (0.013 * H, 0.8907 * H)], tuple(v * 0.35 for v in skin), 0.0012 * H)
    # hair on top
    if style.hair_style in ("short", "long", "bun"):
        c.ellipse(0, cy + 0.021 * H, rx * 1.06, ry * 0.8, hair, start=180, end=360)
        for sgn in (-1, 1):
            c.ellipse(sgn * rx * 0.97, cy + 0.014 * H, 0.006 * H, 0.024 * H, hair)
        if style.hair_style == "bun":
            c.ellipse(0, cy + ry + 0.008 * H, 0.022 * H, 0.016 * H, hair)
    elif style.hair_style == "hat":
        c.ellipse(0, cy + 0.02 * H, rx * 1.1, ry * 0.8, style.hat_colour, start=180, end=360)
        c.ellipse(0, cy + 0.022 * H, rx * 1.45, 0.006 * H, style.hat_colour)
    if style.glasses:
        for sgn in (-1, 1):
            cv2.ellipse(c.img, c.p(sgn * 0.018 * H, 0.935 * H), (c.r(0.013 * H), c.r(0.0095 * H)), 0, 0, 360,
                        (25, 25, 25, 255), c.px(0.0022 * H), cv2.LINE_AA, SHIFT)
        c.line([(-0.005 * H, 0.937 * H), (0.005 * H, 0.937 * H)], (0.1, 0.1, 0.1), 0.002 * H)
    return _shade_head(c, rng, style, cy)


def _hair_mask(c: _Canvas, style: FigureStyle) -> np.ndarray:
    """Pixels painted in the hair colour (hair, beard)."""
    return _colour_mask(c, style.hair)


def _hair_streaks(rng, h: int, w: int, radial_centre: tuple[float, float] | None = None) -> np.ndarray:
    """A brightness multiplier that looks like strands: streaks along y (combed down), or
    radiating from a crown at `radial_centre` (pixels) for a head seen from above."""
    if radial_centre is None:
        line = fbm_1d_px(rng, w, max(8.0, w / 3.0))
        wave = value_noise(rng, max(4, h // 4), max(4, w // 4), cells=3, octaves=2)
        wave = cv2.resize(wave, (w, h), interpolation=cv2.INTER_LINEAR)
        t = 0.75 * line[None, :] + 0.25 * wave
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ang = np.arctan2(yy - radial_centre[1], xx - radial_centre[0])
        n = 256
        prof = fbm_1d_px(rng, n, 48.0)
        idx = ((ang + np.pi) / (2 * np.pi) * n).astype(np.int32) % n
        t = prof[idx]
    return (0.72 + 0.5 * t).astype(np.float32)


def fbm_1d_px(rng, n: int, cells: float) -> np.ndarray:
    from cinestudio.camerasim.textures import fbm_1d
    return fbm_1d(rng, n, cells=cells, octaves=3, persistence=0.6)


def _shade_head(c: _Canvas, rng, style: FigureStyle, cy: float, x0: float = 0.0) -> Sprite:
    hair = _hair_mask(c, style)
    hat = _colour_mask(c, style.hat_colour) if style.hair_style == "hat" else None
    img = c.img.astype(np.float32) / 255.0
    h, w = img.shape[:2]
    H = style.height
    ys = (c.b_m + c.h_m) - (np.arange(h, dtype=np.float32) + 0.5) / c.ppm
    xs = (np.arange(w, dtype=np.float32) + 0.5) / c.ppm - c.w_m / 2 - x0
    d2 = (xs[None, :] / (0.05 * H)) ** 2 + ((ys[:, None] - cy) / (0.075 * H)) ** 2
    shade = 1.0 - 0.35 * np.minimum(d2, 1.44) ** 1.5
    nh, nw = min(h, 96), min(w, 96)
    noise = value_noise(rng, nh, nw, cells=12, octaves=2)
    if (nh, nw) != (h, w):
        noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)
    mult = (shade * (0.95 + 0.1 * noise)).astype(np.float32)
    if hair.any():
        mult *= 1.0 + hair * (_hair_streaks(rng, h, w) - 1.0)
    if hat is not None and hat.any():
        mult *= 1.0 + hat * (_hat_texture(style, h, w, c.ppm) - 1.0)
    planes = list(cv2.split(img))
    for pc in planes[:3]:
        pc *= mult
        np.minimum(pc, planes[3], out=pc)
    return Sprite(cv2.merge(planes), c.w_m, c.h_m, c.b_m)


def _hat_texture(style: FigureStyle, h: int, w: int, ppm: float, radial_centre: tuple[float, float] | None = None
                 ) -> np.ndarray:
    """A brightness multiplier for a hat's cloth: felt grain a few millimetres across and, seen from
    above (`radial_centre`, pixels), the stitched seams of six panels and a button. A flat-coloured
    crown filled the frame of overhead close-ups, where no pan, tilt or tracking could be seen.
    Drawn from the hat's own colour, so the figure's other random draws stay as they were."""
    grng = np.random.default_rng([int(v * 255) for v in style.hat_colour] + [0x4A7])
    nh, nw = min(h, 256), min(w, 256)
    cells = min(h, w) / max(1.0, 0.012 * ppm)  # lattice cells across the smaller side: ~12 mm each
    grain = value_noise(grng, nh, nw, cells=float(np.clip(cells, 2.0, min(nh, nw) / 2)), octaves=3, persistence=0.6)
    if (nh, nw) != (h, w):
        grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)
    mult = 0.8 + 0.4 * grain
    if radial_centre is not None:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        dx, dy = xx - radial_centre[0], yy - radial_centre[1]
        r_px = np.hypot(dx, dy)
        ang = np.arctan2(dy, dx) * np.float32(6 / (2 * np.pi))
        seam_px = np.abs(ang - np.round(ang)) * np.float32(2 * np.pi / 6) * r_px  # distance to the nearest seam
        mult *= 1.0 - 0.4 * (seam_px < max(1.0, 0.003 * ppm))
        mult *= 1.0 - 0.35 * (r_px < max(1.5, 0.009 * ppm))
    return mult.astype(np.float32)


def _colour_mask(c: _Canvas, rgb) -> np.ndarray:
    """Pixels painted in colour `rgb` (0-1), found by colour key on the canvas: 0 or 1 each."""
    r, g, b, _ = _Canvas.col(rgb)
    lo = np.array([max(r - 3, 0), max(g - 3, 0), max(b - 3, 0), 1], np.uint8)
    hi = np.array([min(r + 3, 255), min(g + 3, 255), min(b + 3, 255), 255], np.uint8)
    return cv2.inRange(c.img, lo, hi).astype(np.float32) * np.float32(1.0 / 255.0)


def draw_top(style: FigureStyle, rng: np.random.Generator, ppm: float) -> Sprite:
    """Seen from straight above: shoulders, arms and the top of the head (a horizontal sprite:
    its 'height' axis points the way the figure faces)."""
    H, b = style.height, style.build
    c = _Canvas(0.36 * H * b, 0.2 * H, -0.1 * H, ppm)
    shirt = style.shirt
    for sgn in (-1, 1):
        c.ellipse(sgn * 0.14 * H * b, 0.0, 0.03 * H, 0.04 * H, shirt)
        c.ellipse(sgn * 0.15 * H * b, 0.025 * H, 0.018 * H, 0.02 * H, style.skin)
    c.ellipse(0, 0.0, 0.13 * H * b, 0.055 * H, shirt)
    if style.hair_style == "hat":
        c.ellipse(0, 0.0, 0.07 * H, 0.07 * H, style.hat_colour)
        c.ellipse(0, 0.0, 0.05 * H, 0.055 * H, tuple(v * 0.85 for v in style.hat_colour))
    else:
        top = style.skin if style.hair_style == "bald" else style.hair
        if style.hair_style == "long":
            c.ellipse(0, -0.02 * H, 0.055 * H, 0.075 * H, style.hair)
        c.ellipse(0, 0.0, 0.046 * H, 0.056 * H, top)
        c.ellipse(0, 0.055 * H, 0.008 * H, 0.008 * H, style.skin)  # nose tip
    empty = np.zeros((c.H, c.W), np.uint8)
    hair = _hair_mask(c, style) if style.hair_style not in ("bald", "hat") else None
    hat = None
    if style.hair_style == "hat":
        hat = _colour_mask(c, style.hat_colour) + _colour_mask(c, tuple(v * 0.85 for v in style.hat_colour))
    sprite = _finish(c, rng, style, empty, 0.0, 0.2 * b)
    if hat is not None and hat.any():
        centre = c.p(0.0, 0.0)
        mult = 1.0 + np.minimum(hat, 1.0) * (_hat_texture(style, c.H, c.W, c.ppm, (centre[0] / SCALE, centre[1] / SCALE)) - 1.0)
        planes = list(cv2.split(sprite.rgba))
        for pc in planes[:3]:
            pc *= mult
        sprite = Sprite(cv2.merge(planes), sprite.width, sprite.height, sprite.bottom)
    if hair is not None and hair.any():
        crown = c.p(0.0, -0.012 * H)
        streaks = _hair_streaks(rng, c.H, c.W, (crown[0] / SCALE, crown[1] / SCALE))
        mult = 1.0 + hair * (streaks - 1.0)
        planes = list(cv2.split(sprite.rgba))
        for pc in planes[:3]:
            pc *= mult
        sprite = Sprite(cv2.merge(planes), sprite.width, sprite.height, sprite.bottom)
    return sprite
