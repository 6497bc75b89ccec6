"""A procedural 3-D scene: sky with distant hills, a textured ground (or a room), lighting by time
of day, a human-like subject and other figures and objects at many depths.

Everything is made of planes so that the renderer can draw it fast:

- the sky is a panorama at infinity (sampled by ray direction), with clouds, sun, mountains,
  tree lines or a skyline painted on it;
- the ground (Y = 0) is an infinite tiled texture sampled by ray–plane intersection, modulated by
  a large-scale texture, with distance fog; indoors, a box room (floor, walls, ceiling) instead;
- objects are `Group`s of textured rectangles (`Layer`): billboards facing the first camera
  position (figures, trees, bushes, rocks, posts, foreground foliage), boxes with real faces
  (crates, furniture, buildings), horizontal sprites seen from above (tops of heads and trees)
  and shadow decals on the ground. A group may move (walkers, the tracked subject).

`build_scene` draws all of it from a seeded generator; lighting is baked into the textures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from cinestudio.camerasim import textures as tx
from cinestudio.camerasim.camera import Camera
from cinestudio.camerasim.figures import FigureStyle, Sprite, draw_body, draw_head, draw_top, random_style

Rng = np.random.Generator
UP = np.array([0.0, 1.0, 0.0])

SKY_ELEV = (-20.0, 90.0)  # elevation range of the sky panorama, degrees
TIMES_OF_DAY = ("day", "day", "morning", "golden", "dusk", "overcast", "overcast", "night")
OUTDOOR_GROUNDS = ("grass", "grass", "dry_grass", "dirt", "sand", "snow", "asphalt", "plaza", "farmland", "gravel")
INDOOR_FLOORS = ("wood", "tiles", "carpet", "concrete")


# ---------------------------------------------------------------------------------------------
# Data

@dataclass
class Layer:
    """A textured rectangle. `corners` (4, 3): the texture's top-left, top-right, bottom-right and
    bottom-left corners in world coordinates; `levels`: premultiplied RGBA mip pyramid."""

    corners: np.ndarray
    levels: list
    normal: np.ndarray | None = None  # set: visible only from the side it points to
    fade: tuple[float, float, bool] | None = None  # (lo, hi, above): crossfade by camera elevation
    fog: bool = True


@dataclass
class Group:
    """One object: its layers (per animation pose), shadow decals, and how it moves."""

    poses: list
    anchor: np.ndarray
    decals: list = field(default_factory=list)
    mover: int | None = None
    subject: bool = False
    kind: str = "object"
    name: str = ""
    fade_point: np.ndarray | None = None  # where the camera's elevation is measured for fades


@dataclass
class Mover:
    velocity: np.ndarray  # metres per second
    stride_m: float = 1.4  # distance of one gait cycle (the poses loop once per cycle)
    offsets: np.ndarray | None = None  # explicit per-frame displacement (the tracked subject)
    phase0: float = 0.0

    def offset(self, frame: int, time_s: float) -> np.ndarray:
        if self.offsets is not None:
            return self.offsets[min(frame, len(self.offsets) - 1)]
        return self.velocity * time_s


@dataclass
class Lighting:
    time_of_day: str
    sun_dir: np.ndarray  # unit vector towards the sun
    sun_colour: np.ndarray
    sun_strength: float
    ambient: np.ndarray
    zenith: np.ndarray
    horizon: np.ndarray

    def shade(self, normal: np.ndarray | None) -> np.ndarray:
        """Colour multiplier of a surface with `normal` (None: a rough, round thing)."""
        if normal is None:
            lam = 0.55 + 0.25 * max(0.0, float(self.sun_dir[1]))
        else:
            lam = max(0.0, float(np.dot(normal, self.sun_dir)))
            lam = 0.25 + 0.75 * lam
        return (self.ambient + self.sun_colour * self.sun_strength * lam).astype(np.float32)


@dataclass
class Room:
    bounds: tuple[float, float, float, float, float, float]  # x0, x1, y0, y1, z0, z1
    wall_levels: list  # per wall texture pyramid (RGB)
    wall_tile_m: tuple[float, float]
    ceiling_colour: np.ndarray


@dataclass
class PostFX:
    exposure: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    vignette: float = 0.0
    noise: float = 0.0
    softness: float = 0.0


@dataclass
class Scene:
    kind: str  # outdoor / indoor
    lighting: Lighting
    sky: np.ndarray  # (Hp, Wp, 3) panorama over `sky_window`
    ground_levels: list  # RGB tile pyramid
    ground_tile_m: float
    fog_colour: np.ndarray
    fog_distance: float
    groups: list
    movers: list
    post: PostFX
    room: Room | None = None
    subject_group: int | None = None
    subject_height: float = 1.75
    subject_style: FigureStyle | None = None
    description: dict = field(default_factory=dict)
    sky_window: "SkyWindow | None" = None
    ground_overlay: tuple | None = None  # ((x0, z0, metres per texel), RGB map): large-scale tint and shadows


# ---------------------------------------------------------------------------------------------
# Lighting and sky

def make_lighting(rng: Rng, time_of_day: str, indoor: bool = False) -> Lighting:
    az = math.radians(float(rng.uniform(0, 360)))
    if time_of_day == "day":
        el, zen, hor, sun, s, amb = rng.uniform(35, 70), (0.22, 0.45, 0.85), (0.72, 0.83, 0.95), (1.0, 0.97, 0.9), 0.75, 0.45
    elif time_of_day == "morning":
        el, zen, hor, sun, s, amb = rng.uniform(12, 30), (0.3, 0.5, 0.85), (0.92, 0.86, 0.78), (1.0, 0.9, 0.78), 0.7, 0.42
    elif time_of_day == "golden":
        el, zen, hor, sun, s, amb = rng.uniform(2, 9), (0.32, 0.42, 0.7), (1.0, 0.68, 0.4), (1.0, 0.72, 0.42), 0.8, 0.33
    elif time_of_day == "dusk":
        el, zen, hor, sun, s, amb = rng.uniform(-6, -1), (0.1, 0.13, 0.32), (0.85, 0.48, 0.38), (0.9, 0.5, 0.4), 0.1, 0.4
    elif time_of_day == "night":
        el, zen, hor, sun, s, amb = rng.uniform(20, 50), (0.02, 0.03, 0.08), (0.07, 0.09, 0.16), (0.6, 0.65, 0.8), 0.3, 0.26
    else:  # overcast
        el, zen, hor, sun, s, amb = rng.uniform(25, 60), (0.6, 0.63, 0.68), (0.8, 0.81, 0.83), (1.0, 1.0, 1.0), 0.08, 0.72
    e = math.radians(el)
    sun_dir = np.array([math.sin(az) * math.cos(e), math.sin(e), math.cos(az) * math.cos(e)])
    def j(c, a=0.06):
        return np.clip(np.asarray(c, np.float32) * (1 + rng.uniform(-a, a, 3)).astype(np.float32), 0, 1.2)
    amb_col = j(np.asarray(hor) * 0.35 + np.asarray(zen) * 0.25 + 0.4) * amb
    if indoor:
        warm = np.array([1.0, 0.9, 0.75]) if rng.random() < 0.6 else np.array([0.9, 0.95, 1.0])
        amb_col = (warm * rng.uniform(0.55, 0.8)).astype(np.float32)
        s = float(rng.uniform(0.2, 0.45))
        sun = warm
        sun_dir = np.array([rng.uniform(-0.5, 0.5), 0.8, rng.uniform(-0.5, 0.5)])
        sun_dir /= np.linalg.norm(sun_dir)
    return Lighting(time_of_day, sun_dir, j(sun), float(s), amb_col.astype(np.float32), j(zen), j(hor))


@dataclass
class SkyWindow:
    """The part of the sky a clip can see: azimuth from `az0` over `span` (radians, clockwise
    seen from above, 0 = +Z), elevation `el` (degrees), sampled at `px_per_deg`."""

    az0: float = 0.0
    span: float = 2 * math.pi
    el: tuple[float, float] = SKY_ELEV
    px_per_deg: float = 2.0

    @property
    def full(self) -> bool:
        return self.span >= 2 * math.pi - 1e-6


def make_sky(rng: Rng, light: Lighting, window: SkyWindow | None = None) -> tuple[np.ndarray, dict]:
    """Sky panorama (RGB float32) with sun, clouds and distant relief over `window`; returns it and
    a description of the relief."""
    window = window or SkyWindow()
    lo, hi = window.el
    width = max(8, int(round(math.degrees(window.span) * window.px_per_deg)))
    height = max(4, int(round((hi - lo) * window.px_per_deg)))
    frac = window.span / (2 * math.pi)  # noise and relief scales are per full turn
    el = np.linspace(hi, lo, height, dtype=np.float32)  # row 0 = top
    az = (window.az0 + (np.arange(width, dtype=np.float32) + 0.5) / width * window.span).astype(np.float32)
    az = np.mod(az, np.float32(2 * math.pi))
    t = np.clip(el / 90.0, 0, 1) ** 0.45
    rowcol = (light.horizon[None, :] + (light.zenith - light.horizon)[None, :] * t[:, None]).astype(np.float32)
    sky = np.empty((height, width, 3), np.float32)
    sky[:] = rowcol[:, None, :]
    # sun glow (computed where it matters: within ~60 degrees of the sun)
    sd = light.sun_dir
    sun_az = math.atan2(sd[0], sd[2]) % (2 * math.pi)
    sun_el = math.degrees(math.asin(max(-1.0, min(1.0, float(sd[1])))))
    if light.time_of_day != "overcast":
        dx = np.abs(az - np.float32(sun_az))
        dx = np.minimum(dx, np.float32(2 * math.pi) - dx)
        cosel = np.cos(np.radians(np.clip(el, -80, 80))).astype(np.float32)
        ang = np.sqrt((dx[None, :] * cosel[:, None]) ** 2 + (np.radians(el - sun_el).astype(np.float32)[:, None]) ** 2)
        glow_col = (light.sun_colour * (0.35 if light.time_of_day in ("golden", "dusk") else 0.18)).astype(np.float32)
        g = np.exp(ang * np.float32(-1 / 0.35))
        sky += g[..., None] * glow_col
        if light.time_of_day != "dusk":
            disc = np.clip((0.012 - ang) / 0.004, 0, 1)[..., None]
            sky += disc * (np.array([1.3, 1.25, 1.15], np.float32) - sky)
    # clouds
    cover = {"overcast": 0.8, "day": rng.uniform(0.0, 0.55), "morning": rng.uniform(0.1, 0.5),
             "golden": rng.uniform(0.1, 0.6), "dusk": rng.uniform(0.0, 0.5), "night": rng.uniform(0.0, 0.3)}[light.time_of_day]
    if cover > 0.05:
        cells = float(rng.uniform(3, 7)) * max(frac, 0.05) * 360.0 / 110.0
        n = tx.value_noise(rng, max(4, height // 2), max(4, width // 2), cells=max(1.0, cells), octaves=4,
                           tileable=window.full)
        n = cv2.resize(n, (width, height), interpolation=cv2.INTER_LINEAR)
        c = np.clip((n - (1 - cover)) * 4.0, 0, 1) * np.clip(el / 8.0, 0, 1)[:, None] * 0.9
        if light.time_of_day == "overcast":
            cloud_col = light.horizon * 0.95
        elif light.time_of_day in ("golden", "dusk"):
            cloud_col = np.clip(light.sun_colour * 0.9 + 0.1, 0, 1)
        elif light.time_of_day == "night":
            cloud_col = light.zenith * 1.6
        else:
            cloud_col = np.array([0.97, 0.97, 0.98], np.float32)
        cloud_col = np.asarray(cloud_col, np.float32) * (0.8 + 0.2 * n[..., None])
        sky += c[..., None] * (cloud_col - sky)
    if light.time_of_day == "night":
        stars = (rng.random((height, width), dtype=np.float32) > 0.998).astype(np.float32)
        sky += stars[..., None] * 0.8 * np.clip(el / 10, 0, 1)[:, None, None]
    # distant relief: up to three ridges, far (hazy, high) to near (darker, low)
    desc = {"relief": []}
    px_per_deg = height / (hi - lo)
    horizon_row = hi * px_per_deg
    if lo > 0.5 or hi < -0.5:
        horizon_row = None
    r = rng.random()
    if r < 0.45:
        kinds = ["mountains", "hills"]
    elif r < 0.6:
        kinds = ["mountains"]
    elif r < 0.75:
        kinds = ["hills", "treeline"]
    elif r < 0.88:
        kinds = ["skyline"]
    else:
        kinds = []
    rows = np.arange(height, dtype=np.float32)[:, None]
    bright = 0.45 + 0.55 * float(np.mean(light.ambient + light.sun_colour * light.sun_strength * 0.5))
    if horizon_row is None:
        kinds = []
    tex = None
    if kinds:
        tex = tx.value_noise(rng, max(4, height // 2), max(4, width // 2), cells=max(2.0, 20 * frac * 3),
                             octaves=3, tileable=window.full)
        tex = cv2.resize(tex, (width, height), interpolation=cv2.INTER_LINEAR)
    def prof1d(cells, octaves):
        return tx.fbm_1d(rng, width, cells=max(1.0, cells * frac), octaves=octaves, periodic=window.full)
    for i, kind in enumerate(kinds):
        haze = 0.65 - 0.25 * i
        if kind == "mountains":
            prof = prof1d(float(rng.uniform(3, 8)), 6) ** 1.6
            h_deg = prof * rng.uniform(4, 14) + 0.3
            base = tx.jitter_color(rng, (0.35, 0.38, 0.45), 0.05, 0.3, 0.2)
            if rng.random() < 0.3:
                base = (0.8, 0.82, 0.88)  # snowy
        elif kind == "hills":
            prof = prof1d(float(rng.uniform(4, 10)), 4)
            h_deg = prof * rng.uniform(1.5, 5) + 0.2
            base = tx.jitter_color(rng, (0.3, 0.42, 0.25), 0.08, 0.3, 0.25)
        elif kind == "treeline":
            prof = prof1d(40, 3) * 0.6 + prof1d(6, 2) * 0.4
            h_deg = prof * rng.uniform(0.8, 2.5) + 0.2
            base = tx.jitter_color(rng, (0.15, 0.25, 0.12), 0.05, 0.3, 0.3)
        else:  # skyline
            h_deg = np.zeros(width, np.float32)
            x = 0
            while x < width:
                w = max(1, int(rng.integers(4, 20) * window.px_per_deg / 2))
                h_deg[x:x + w] = rng.uniform(0.5, 6) if rng.random() < 0.85 else 0.2
                x += w
            base = tx.jitter_color(rng, (0.3, 0.32, 0.38), 0.1, 0.3, 0.25)
        desc["relief"].append(kind)
        top = (horizon_row - h_deg * px_per_deg).astype(np.float32)
        r0 = max(0, int(top.min()) - 1)
        r1 = min(height, int(math.ceil(horizon_row)) + 2)
        sub = rows[r0:r1]
        mask = np.clip(sub - top[None, :] + 0.5, 0, 1)
        col = np.asarray(base, np.float32) * np.float32(bright)
        hz = np.clip(haze + 0.15 * (sub - top[None, :]) / (px_per_deg * 3), 0, 0.9)
        layer = (col * tex[r0:r1, :, None] * 1.05) * (1 - hz[..., None]) + light.horizon * hz[..., None]
        if kind == "skyline" and light.time_of_day in ("night", "dusk"):
            lit = (rng.random(mask.shape, dtype=np.float32) > 0.93).astype(np.float32) * mask
            layer = layer + lit[..., None] * np.array([0.9, 0.75, 0.4], np.float32)
        sky[r0:r1] += mask[..., None] * (layer - sky[r0:r1])
    if horizon_row is not None:
        below = int(math.ceil(horizon_row)) + 1
        sky[below:] = light.horizon
    elif hi < 0:
        sky[:] = light.horizon
    return np.clip(sky, 0, 1.5).astype(np.float32), desc


# ---------------------------------------------------------------------------------------------
# Ground and room textures

def ground_texture(rng: Rng, kind: str, size: int = 256) -> tuple[np.ndarray, float]:
    """A tileable ground texture (RGB) and the metres one tile spans."""
    n1 = tx.value_noise(rng, size, size, cells=4, octaves=5, tileable=True)
    n2 = tx.value_noise(rng, size, size, cells=16, octaves=3, tileable=True)
    def col(c):
        return np.asarray(tx.jitter_color(rng, c, 0.03, 0.2, 0.15), np.float32)
    if kind == "grass":
        t = 0.5 * n1 + 0.5 * n2
        img = tx.lerp_colors(t, col((0.18, 0.32, 0.1)), col((0.42, 0.58, 0.22)))
        tile = rng.uniform(3, 6)
    elif kind == "dry_grass":
        img = tx.lerp_colors(0.6 * n1 + 0.4 * n2, col((0.45, 0.4, 0.22)), col((0.75, 0.68, 0.42)))
        tile = rng.uniform(3, 6)
    elif kind == "dirt":
        img = tx.lerp_colors(0.5 * n1 + 0.5 * n2, col((0.3, 0.22, 0.14)), col((0.55, 0.42, 0.3)))
        tile = rng.uniform(3, 8)
    elif kind == "sand":
        ripples = tx.stripes(size, size, period=size / int(rng.integers(6, 14)), angle_deg=0, softness=0.5)
        img = tx.lerp_colors(0.6 * n1 + 0.25 * n2 + 0.15 * ripples, col((0.72, 0.62, 0.45)), col((0.92, 0.84, 0.66)))
        tile = rng.uniform(4, 10)
    elif kind == "snow":
        img = tx.lerp_colors(0.7 * n1 + 0.3 * n2, col((0.78, 0.82, 0.9)), col((0.97, 0.97, 1.0)))
        tile = rng.uniform(5, 12)
    elif kind == "asphalt":
        speck = _fine_noise(rng, size)
        img = tx.lerp_colors(0.4 * n1 + 0.3 * n2 + 0.3 * speck, col((0.16, 0.16, 0.17)), col((0.34, 0.34, 0.35)))
        if rng.random() < 0.6:
            line = tx.stripes(size, size, period=size, duty=0.04, softness=0.02)
            img = img * (1 - line[..., None]) + np.array([0.85, 0.82, 0.6], np.float32) * line[..., None]
        tile = rng.uniform(4, 8)
    elif kind == "plaza":
        k = int(rng.choice([4, 8]))
        ch = tx.checker(size, size, k)
        grout = 1 - tx.stripes(size, size, size / k, 0, duty=0.06, softness=0.02) * 0.5
        grout = np.minimum(grout, 1 - tx.stripes(size, size, size / k, 90, duty=0.06, softness=0.02) * 0.5)
        img = tx.lerp_colors(0.6 * ch + 0.25 * n2 + 0.15 * n1, col((0.5, 0.47, 0.42)), col((0.78, 0.74, 0.68)))
        img *= grout[..., None]
        tile = rng.uniform(2, 6)
    elif kind == "farmland":
        rows = tx.stripes(size, size, period=size / int(rng.integers(6, 16)), angle_deg=float(rng.choice([0, 90])), softness=0.3)
        img = tx.lerp_colors(0.55 * rows + 0.3 * n2 + 0.15 * n1, col((0.35, 0.27, 0.16)), col((0.35, 0.55, 0.2)))
        tile = rng.uniform(4, 10)
    elif kind == "gravel":
        speck = _fine_noise(rng, size, 1.0)
        img = tx.lerp_colors(0.5 * speck / max(speck.max(), 1e-6) + 0.5 * n2, col((0.35, 0.33, 0.3)), col((0.7, 0.67, 0.62)))
        tile = rng.uniform(2, 5)
    elif kind == "wood":
        n = int(rng.integers(6, 14))
        img = tx.planks(rng, size, size, n)[..., None] * col((0.62, 0.42, 0.25))[None, None, :] * 1.2
        tile = rng.uniform(1.5, 3)
    elif kind == "tiles":
        k = int(rng.choice([2, 4, 8]))
        ch = tx.checker(size, size, k)
        c1, c2 = col((0.85, 0.85, 0.82)), (col((0.15, 0.15, 0.17)) if rng.random() < 0.5 else col((0.65, 0.55, 0.45)))
        img = tx.lerp_colors(ch, c1, c2) * (0.92 + 0.08 * n2[..., None])
        tile = rng.uniform(1.0, 3.0)
    elif kind == "carpet":
        img = tx.lerp_colors(0.5 * n2 + 0.5 * _fine_noise(rng, size),
                             col(tx.random_color(rng, val=(0.2, 0.5))), col(tx.random_color(rng, val=(0.4, 0.7))))
        tile = rng.uniform(1, 3)
    else:  # concrete
        img = tx.lerp_colors(0.6 * n1 + 0.4 * n2, col((0.45, 0.45, 0.44)), col((0.66, 0.65, 0.62)))
        tile = rng.uniform(3, 6)
    return np.clip(img, 0, 1).astype(np.float32), float(tile)


def _fine_noise(rng: Rng, size: int, sigma: float = 0.8) -> np.ndarray:
    """Texel-scale grain, slightly blurred (pure per-texel noise shimmers when it moves)."""
    r = np.pad(rng.random((size, size), dtype=np.float32), 4, mode="wrap")  # blur that wraps: tiles stay seamless
    n = cv2.GaussianBlur(r, (0, 0), sigma)[4:-4, 4:-4]
    lo, hi = float(n.min()), float(n.max())
    return (n - lo) / max(hi - lo, 1e-6)


def wall_texture(rng: Rng, size: int = 256) -> tuple[np.ndarray, tuple[float, float], str]:
    kind = str(rng.choice(["paint", "paint", "stripes", "brick", "panels"]))
    base = np.asarray(tx.random_color(rng, sat=(0.05, 0.45), val=(0.5, 0.92)), np.float32)
    n = tx.value_noise(rng, size, size, cells=3, octaves=4, tileable=True)
    if kind == "paint":
        img = base * (0.9 + 0.12 * n[..., None])
        tile = (rng.uniform(3, 6),) * 2
    elif kind == "stripes":
        s = tx.stripes(size, size, period=size / int(rng.integers(4, 12)), angle_deg=90, softness=0.05)
        other = np.asarray(tx.jitter_color(rng, base, 0.1, 0.3, 0.2), np.float32)
        img = tx.lerp_colors(s, base, other) * (0.95 + 0.08 * n[..., None])
        tile = (rng.uniform(1.5, 3),) * 2
    elif kind == "brick":
        b = tx.bricks(rng, size, size, rows=16, cols=4)
        brick = np.asarray(tx.jitter_color(rng, (0.6, 0.3, 0.22), 0.03, 0.2, 0.2), np.float32)
        mortar = np.array([0.75, 0.73, 0.7], np.float32)
        img = np.where(b[..., None] > 0, brick * b[..., None] * (0.9 + 0.15 * n[..., None]), mortar)
        tile = (rng.uniform(1.6, 2.4),) * 2
    else:
        p = tx.stripes(size, size, period=size / 4, angle_deg=90, duty=0.04, softness=0.02)
        img = base * (1 - 0.35 * p[..., None]) * (0.93 + 0.1 * n[..., None])
        tile = (rng.uniform(2, 4),) * 2
    return np.clip(img, 0, 1).astype(np.float32), tile, kind


# ---------------------------------------------------------------------------------------------
# Layers

def _rgba_levels(rgba: np.ndarray) -> list:
    return tx.mipmaps(rgba)


def billboard(sprite: Sprite, base: np.ndarray, facing: np.ndarray, lift: float = 0.0, forward: float = 0.0,
              shade: np.ndarray | None = None, fade=None) -> Layer:
    """A vertical rectangle standing at `base`, facing horizontal unit vector `facing`."""
    f = np.array([facing[0], 0.0, facing[2]])
    f /= max(np.linalg.norm(f), 1e-9)
    right = np.array([-f[2], 0.0, f[0]])  # the viewer's right when looking along -f
    b = np.asarray(base, float) + f * forward
    x0 = sprite.x_center - sprite.width / 2
    x1 = sprite.x_center + sprite.width / 2
    y0 = sprite.bottom + lift
    y1 = sprite.bottom + sprite.height + lift
    corners = np.array([b + right * x0 + UP * y1, b + right * x1 + UP * y1, b + right * x1 + UP * y0,
                        b + right * x0 + UP * y0])
    img = sprite.rgba
    if shade is not None:
        img = img * np.append(np.asarray(shade, np.float32), np.float32(1.0))
    return Layer(corners, _rgba_levels(img), None, fade)


def flat(sprite: Sprite, center: np.ndarray, front: np.ndarray, height: float, shade=None, fade=None,
         one_sided: bool = True) -> Layer:
    """A horizontal rectangle at `height` centred on `center`; the texture's top points to `front`."""
    f = np.array([front[0], 0.0, front[2]])
    f /= max(np.linalg.norm(f), 1e-9)
    u = np.cross(f, UP)  # texture x, as seen from above
    c = np.array([center[0], height, center[2]])
    hw, hh = sprite.width / 2, sprite.height / 2
    yc = sprite.bottom + hh
    c = c + f * yc
    corners = np.array([c - u * hw + f * hh, c + u * hw + f * hh, c + u * hw - f * hh, c - u * hw - f * hh])
    img = sprite.rgba
    if shade is not None:
        img = img * np.append(np.asarray(shade, np.float32), np.float32(1.0))
    return Layer(corners, _rgba_levels(img), UP.copy() if one_sided else None, fade)


def shadow_decal(base: np.ndarray, radius: float, light: Lighting, height: float, strength: float = 0.55,
                 size: int = 48) -> Layer | None:
    s = light.sun_dir
    if s[1] <= 0.02 or light.sun_strength < 0.15:
        # soft contact shadow only
        length, direction = radius * 1.1, np.array([1.0, 0.0, 0.0])
        strength *= 0.6
    else:
        length = min(height / max(s[1] / max(math.hypot(s[0], s[2]), 1e-6), 0.3), 4 * height)
        length = max(length, radius)
        direction = -np.array([s[0], 0.0, s[2]])
        direction /= max(np.linalg.norm(direction), 1e-9)
    a = np.zeros((size, size), np.float32)
    cv2.ellipse(a, (size // 2, size // 2), (size // 2 - 4, size // 2 - 4), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    a = cv2.GaussianBlur(a, (0, 0), size / 10) * strength * min(1.0, light.sun_strength + 0.4)
    img = np.zeros((size, size, 4), np.float32)
    img[..., 3] = a
    w = radius * 2.2
    center = np.asarray(base, float) + direction * (length / 2 - radius * 0.3)
    side = np.array([-direction[2], 0.0, direction[0]])
    L = length + radius
    y = 0.004
    corners = np.array([center + direction * L / 2 - side * w / 2, center + direction * L / 2 + side * w / 2,
                        center - direction * L / 2 + side * w / 2, center - direction * L / 2 - side * w / 2])
    corners[:, 1] = y
    return Layer(corners, _rgba_levels(img), UP.copy(), None)


def box_layers(rng: Rng, center: np.ndarray, size: tuple[float, float, float], yaw: float, tex: np.ndarray,
               light: Lighting, tile_m: float = 1.0, top_tex: np.ndarray | None = None) -> list:
    """A box standing on the ground: 4 sides and a top, each one-sided (back faces culled)."""
    w, h, d = size
    c, s = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    ax = np.array([c, 0.0, -s])
    az = np.array([s, 0.0, c])
    base = np.asarray(center, float)
    layers = []
    faces = [(az, ax, w), (-az, -ax, w), (ax, -az, d), (-ax, az, d)]
    for normal, right, width in faces:
        mid = base + normal * (d if width == w else w) / 2
        tl = mid - right * width / 2 + UP * h
        corners = np.array([tl, tl + right * width, mid + right * width / 2, mid - right * width / 2])
        crop = _tile_crop(tex, width / tile_m, h / tile_m, rng)
        crop[..., :3] *= light.shade(normal)
        layers.append(Layer(corners, _rgba_levels(crop), normal.copy(), None))
    top = top_tex if top_tex is not None else tex
    tl = base + UP * h - ax * w / 2 + az * d / 2
    corners = np.array([tl, tl + ax * w, tl + ax * w - az * d, tl - az * d])
    crop = _tile_crop(top, w / tile_m, d / tile_m, rng)
    crop[..., :3] *= light.shade(UP) * 1.05
    layers.append(Layer(corners, _rgba_levels(crop), UP.copy(), None))
    return layers


def _tile_crop(tex: np.ndarray, tiles_x: float, tiles_y: float, rng: Rng, max_px: int = 128) -> np.ndarray:
    """An RGBA image covering `tiles_x` by `tiles_y` repeats of `tex` (resized to at most max_px)."""
    th, tw = tex.shape[:2]
    ox, oy = int(rng.integers(tw)), int(rng.integers(th))
    W = max(2, int(round(tiles_x * tw)))
    Hh = max(2, int(round(tiles_y * th)))
    reps = (Hh // th + 2, W // tw + 2, 1)
    big = np.tile(tex, reps)[oy:oy + Hh, ox:ox + W]
    scale = min(1.0, max_px / max(W, Hh))
    if scale < 1.0:
        big = cv2.resize(big, (max(2, int(W * scale)), max(2, int(Hh * scale))), interpolation=cv2.INTER_AREA)
    rgb = big[..., :3].astype(np.float32)
    return tx.rgba(rgb)


# ---------------------------------------------------------------------------------------------
# Objects

def _facing(pos: np.ndarray, cam_pos: np.ndarray) -> np.ndarray:
    d = np.asarray(cam_pos, float) - np.asarray(pos, float)
    d[1] = 0.0
    n = np.linalg.norm(d)
    return d / n if n > 1e-6 else np.array([0.0, 0.0, -1.0])


def make_figure(rng: Rng, base: np.ndarray, cam_pos: np.ndarray, light: Lighting, ppm_body: float,
                ppm_head: float, style: FigureStyle | None = None, walk_dir: np.ndarray | None = None,
                view: str | None = None, poses: int = 1, bottom_frac: float = 0.0,
                need_top: bool = True) -> tuple[list, FigureStyle, list]:
    """Layers (per pose) of a standing or walking figure, its style, and shadow decals."""
    st = style or random_style(rng)
    facing = _facing(base, cam_pos)
    if view is None:
        view = "front"
        if walk_dir is not None:
            lateral = abs(float(np.dot(walk_dir, np.array([-facing[2], 0.0, facing[0]]))))
            view = "side" if lateral > 0.5 else ("front" if float(np.dot(walk_dir, facing)) > 0 else "back")
    flip = False
    if view == "side" and walk_dir is not None:
        right = np.array([-facing[2], 0.0, facing[0]])
        flip = float(np.dot(walk_dir, right)) < 0
    shade = light.shade(facing)
    head = draw_head(st, rng, ppm_head, view)
    if flip:
        head = Sprite(head.rgba[:, ::-1].copy(), head.width, head.height, head.bottom)
    head_layer = billboard(head, base, facing, forward=0.03, shade=shade, fade=(58.0, 72.0, False))
    top_layer = None
    if need_top:
        top = draw_top(st, rng, min(ppm_body, ppm_head))
        top_layer = flat(top, base, facing if walk_dir is None else walk_dir, 0.84 * st.height,
                         shade=light.shade(UP), fade=(58.0, 72.0, True))
    pose_layers = []
    cache: dict = {}
    for p in range(poses):
        phase = 2 * math.pi * p / poses if poses > 1 else 0.0
        body = draw_body(st, rng, ppm_body, view, phase, bottom_frac, cache)
        if flip:
            body = Sprite(body.rgba[:, ::-1].copy(), body.width, body.height, body.bottom)
        bob = 0.012 * st.height * abs(math.cos(phase)) if poses > 1 else 0.0
        layers = [billboard(body, base, facing, lift=bob, shade=shade, fade=(58.0, 72.0, False)),
                  replace(head_layer, corners=head_layer.corners + UP * bob)]
        if top_layer is not None:
            layers.append(top_layer)
        pose_layers.append(layers)
    decal = shadow_decal(base, 0.22 * st.height / 1.75, light, st.height)
    return pose_layers, st, [decal] if decal else []


def make_tree(rng: Rng, base: np.ndarray, cam_pos: np.ndarray, light: Lighting, ppm: float, height: float | None = None,
              need_top: bool = True):
    conifer = rng.random() < 0.35
    H = float(height or rng.uniform(3, 12))
    W = H * (rng.uniform(0.35, 0.5) if conifer else rng.uniform(0.55, 0.9))
    px = int(np.clip(H * ppm, 16, 192))
    pw = max(8, int(px * W / H))
    leaf = np.asarray(tx.jitter_color(rng, (0.2, 0.38, 0.15) if not conifer else (0.12, 0.28, 0.15), 0.06, 0.3, 0.3), np.float32)
    if light.time_of_day in ("golden",) and rng.random() < 0.3:
        leaf = np.asarray((0.55, 0.35, 0.12), np.float32)
    img = np.zeros((px, pw, 4), np.float32)
    trunk_w = max(1, int(pw * 0.08))
    trunk_col = np.asarray(tx.jitter_color(rng, (0.3, 0.2, 0.12), 0.03, 0.2, 0.2), np.float32)
    img[int(px * 0.45):, pw // 2 - trunk_w // 2: pw // 2 + trunk_w // 2 + 1, :3] = trunk_col
    img[int(px * 0.45):, pw // 2 - trunk_w // 2: pw // 2 + trunk_w // 2 + 1, 3] = 1.0
    if conifer:
        a = np.zeros((px, pw), np.float32)
        for i in range(4):
            y0 = int(px * (0.05 + 0.2 * i))
            y1 = int(px * (0.35 + 0.2 * i))
            half = pw * (0.2 + 0.1 * i)
            pts = np.array([[pw / 2, y0], [pw / 2 + half, min(y1, px * 0.92)], [pw / 2 - half, min(y1, px * 0.92)]], np.int32)
            cv2.fillPoly(a, [pts], 1.0, cv2.LINE_AA)
        noise = tx.value_noise(rng, px, pw, cells=max(3.0, pw / 6), octaves=2)
        a = np.clip(a * (0.7 + 0.6 * noise), 0, 1)
        a = np.where(a > 0.45, 1.0, a / 0.45 * 0.5).astype(np.float32)
    else:
        a = tx.blob_alpha(rng, int(px * 0.7), pw, lumps=int(rng.integers(5, 10)), roughness=0.5,
                          cells=max(4.0, pw / 8))
        a = np.pad(a, ((0, px - a.shape[0]), (0, 0)))
    n = tx.value_noise(rng, px, pw, cells=max(3.0, pw / 5), octaves=3)
    col = leaf * (0.6 + 0.6 * n[..., None])
    # light from above: top brighter
    col *= (1.1 - 0.35 * np.linspace(0, 1, px, dtype=np.float32)[:, None, None])
    img[..., :3] = img[..., :3] * (1 - a[..., None]) + col * a[..., None]
    img[..., 3] = np.maximum(img[..., 3], a)
    img[..., :3] *= img[..., 3:4]
    facing = _facing(base, cam_pos)
    sp = Sprite(img, W, H, 0.0)
    layers = [billboard(sp, base, facing, shade=light.shade(facing) * 0.9 + 0.1 * light.shade(None), fade=(62.0, 76.0, False))]
    # the canopy seen from above
    if not need_top:
        decal = shadow_decal(base, W * 0.4, light, H)
        return layers, [decal] if decal else [], ("pine tree" if conifer else "tree"), H
    tsz = int(np.clip(W * ppm, 8, 192))
    ta = tx.blob_alpha(rng, tsz, tsz, lumps=int(rng.integers(5, 10)), roughness=0.5, cells=max(3.0, tsz / 8))
    tn = tx.value_noise(rng, tsz, tsz, cells=max(3.0, tsz / 6), octaves=3)
    timg = tx.rgba(leaf * (0.7 + 0.6 * tn[..., None]), ta)
    layers.append(flat(Sprite(timg, W, W, -W / 2), base, facing, H * 0.75, shade=light.shade(UP),
                       fade=(62.0, 76.0, True)))
    decal = shadow_decal(base, W * 0.4, light, H)
    return layers, [decal] if decal else [], ("pine tree" if conifer else "tree"), H


def make_blob_object(rng: Rng, base: np.ndarray, cam_pos: np.ndarray, light: Lighting, ppm: float, kind: str,
                     need_top: bool = True):
    """Bushes and rocks: an irregular blob, billboard plus top view."""
    if kind == "bush":
        H = float(rng.uniform(0.5, 1.8))
        W = H * float(rng.uniform(1.0, 1.8))
        c0 = tx.jitter_color(rng, (0.2, 0.35, 0.14), 0.07, 0.3, 0.3)
    else:
        H = float(rng.uniform(0.3, 2.0))
        W = H * float(rng.uniform(1.0, 2.0))
        c0 = tx.jitter_color(rng, (0.45, 0.43, 0.4), 0.08, 0.5, 0.25)
    px = int(np.clip(H * ppm, 8, 256))
    pw = int(np.clip(px * W / H, 8, 384))
    a = tx.blob_alpha(rng, px * 2, pw, lumps=int(rng.integers(4, 9)), roughness=0.45 if kind == "bush" else 0.15,
                      cells=max(3.0, pw / (8 if kind == "bush" else 20)))[: px]
    a = cv2.resize(a[px // 2:], (pw, px)) if a.shape[0] > px // 2 else a
    n = tx.value_noise(rng, px, pw, cells=max(3.0, pw / 6), octaves=3)
    col = np.asarray(c0, np.float32) * (0.6 + 0.6 * n[..., None])
    col *= (1.1 - 0.4 * np.linspace(0, 1, px, dtype=np.float32)[:, None, None])
    facing = _facing(base, cam_pos)
    layers = [billboard(Sprite(tx.rgba(col, a), W, H, 0.0), base, facing, shade=light.shade(facing) * 0.8 + 0.2 * light.shade(None),
                        fade=(62.0, 76.0, False))]
    if not need_top:
        decal = shadow_decal(base, W * 0.45, light, H)
        return layers, [decal] if decal else [], kind, H
    tsz = int(np.clip(W * ppm, 8, 160))
    ta = tx.blob_alpha(rng, tsz, tsz, lumps=5, roughness=0.3, cells=max(3.0, tsz / 8))
    tn = tx.value_noise(rng, tsz, tsz, cells=max(3.0, tsz / 6), octaves=3)
    layers.append(flat(Sprite(tx.rgba(np.asarray(c0, np.float32) * (0.7 + 0.6 * tn[..., None]), ta), W, W, -W / 2),
                       base, facing, H * 0.8, shade=light.shade(UP), fade=(62.0, 76.0, True)))
    decal = shadow_decal(base, W * 0.45, light, H)
    return layers, [decal] if decal else [], kind, H


def make_post(rng: Rng, base: np.ndarray, cam_pos: np.ndarray, light: Lighting, ppm: float):
    H = float(rng.uniform(2.5, 6.0))
    W = 0.5
    px = int(np.clip(H * ppm, 16, 320))
    pw = max(4, int(px * W / H))
    img = np.zeros((px, pw, 4), np.float32)
    pole = np.asarray(tx.jitter_color(rng, (0.25, 0.25, 0.27), 0.1, 0.5, 0.4), np.float32)
    pw2 = max(1, int(pw * 0.16))
    img[:, pw // 2 - pw2 // 2: pw // 2 + pw2 // 2 + 1, :3] = pole
    img[:, pw // 2 - pw2 // 2: pw // 2 + pw2 // 2 + 1, 3] = 1
    lamp = rng.random() < 0.6
    if lamp:
        hh = max(2, int(px * 0.05))
        on = light.time_of_day in ("night", "dusk")
        img[:hh, :, :3] = (1.0, 0.9, 0.6) if on else pole * 1.3
        img[:hh, :, 3] = 1
    facing = _facing(base, cam_pos)
    layers = [billboard(Sprite(img, W, H, 0.0), base, facing, shade=light.shade(facing), fade=(70.0, 80.0, False))]
    decal = shadow_decal(base, 0.12, light, H, strength=0.35)
    return layers, [decal] if decal else [], ("street lamp" if lamp else "post"), H


def make_fence(rng: Rng, base: np.ndarray, cam_pos: np.ndarray, light: Lighting, ppm: float):
    L = float(rng.uniform(3, 12))
    H = float(rng.uniform(0.8, 1.5))
    px_h = int(np.clip(H * ppm, 8, 128))
    px_w = int(np.clip(L * ppm, 16, 512))
    a = np.zeros((px_h, px_w), np.float32)
    n_posts = max(2, int(L / rng.uniform(0.8, 2.0)))
    for i in range(n_posts + 1):
        x = int(i * (px_w - 1) / n_posts)
        a[:, max(0, x - max(1, px_w // 150)): x + max(1, px_w // 150) + 1] = 1
    for fy in (0.2, 0.55):
        y = int(fy * px_h)
        a[y: y + max(1, px_h // 10)] = 1
    if rng.random() < 0.4:  # pickets
        step = max(3, px_w // int(L * 8))
        a[int(px_h * 0.05):, ::step] = 1
    col = np.asarray(tx.jitter_color(rng, (0.55, 0.42, 0.3) if rng.random() < 0.6 else (0.85, 0.85, 0.82), 0.05, 0.3, 0.2), np.float32)
    n = tx.value_noise(rng, px_h, px_w, cells=4, octaves=2)
    facing = _facing(base, cam_pos)
    yaw_off = math.radians(float(rng.uniform(-50, 50)))
    c, s = math.cos(yaw_off), math.sin(yaw_off)
    f = np.array([facing[0] * c - facing[2] * s, 0, facing[0] * s + facing[2] * c])
    layer = billboard(Sprite(tx.rgba(col * (0.8 + 0.3 * n[..., None]), a), L, H, 0.0), base, f, shade=light.shade(f),
                      fade=(70.0, 85.0, False))
    return [layer], [], "fence", H


def make_box_object(rng: Rng, base: np.ndarray, light: Lighting, kind: str):
    yaw = float(rng.uniform(0, 360))
    size_px = 64
    if kind == "building":
        w, h, d = rng.uniform(6, 25), rng.uniform(5, 30), rng.uniform(6, 25)
        wall = np.asarray(tx.random_color(rng, sat=(0.05, 0.4), val=(0.35, 0.85)), np.float32)
        img = np.ones((size_px, size_px, 3), np.float32) * wall
        glass = np.asarray((0.25, 0.3, 0.38) if light.time_of_day not in ("night", "dusk") else (0.95, 0.8, 0.45), np.float32)
        img[size_px // 4: size_px * 3 // 4, size_px // 4: size_px * 3 // 4] = glass
        tile = 3.0
        top = np.ones_like(img) * wall * 0.8
        name = "building"
    elif kind == "crate":
        w = h = d = rng.uniform(0.4, 1.2)
        img = tx.planks(rng, size_px, size_px, 4)[..., None] * np.asarray(tx.jitter_color(rng, (0.6, 0.45, 0.28)), np.float32)
        tile = w
        top = img
        name = "wooden crate"
    elif kind == "furniture":
        w, h, d = rng.uniform(0.6, 2.2), rng.uniform(0.4, 2.0), rng.uniform(0.4, 1.0)
        c = np.asarray(tx.random_color(rng, sat=(0.1, 0.6), val=(0.2, 0.8)), np.float32)
        img = c * (0.85 + 0.2 * tx.value_noise(rng, size_px, size_px, cells=3, octaves=3)[..., None])
        tile = max(w, h)
        top = img
        name = str(rng.choice(["cabinet", "table", "sofa", "shelf"]))
    else:  # block
        w, h, d = rng.uniform(0.5, 3), rng.uniform(0.5, 2.5), rng.uniform(0.5, 3)
        c = np.asarray(tx.random_color(rng, sat=(0.0, 0.7), val=(0.3, 0.9)), np.float32)
        pat = rng.random()
        if pat < 0.33:
            t = tx.stripes(size_px, size_px, size_px / 4, 0)
        elif pat < 0.66:
            t = tx.checker(size_px, size_px, 4)
        else:
            t = tx.value_noise(rng, size_px, size_px, cells=4, octaves=3, tileable=True)
        img = tx.lerp_colors(t, c, np.asarray(tx.random_color(rng), np.float32))
        tile = max(w, h, d) / 2
        top = img
        name = "block"
    layers = box_layers(rng, base, (w, h, d), yaw, np.ascontiguousarray(img), light, tile, np.ascontiguousarray(top))
    decal = shadow_decal(base, max(w, d) * 0.55, light, h, strength=0.45)
    return layers, [decal] if decal else [], name, h


def make_wall_decor(rng: Rng, room: "Room", light: Lighting, ppm: float = 80.0) -> list:
    """Windows, doors, pictures and posters on the walls of a room: static groups."""
    x0, x1, _, h, z0, z1 = room.bounds
    walls = [  # (normal into the room, point on the wall, along-axis, length)
        (np.array([1.0, 0.0, 0.0]), lambda a: np.array([x0, 0.0, a]), (z0, z1)),
        (np.array([-1.0, 0.0, 0.0]), lambda a: np.array([x1, 0.0, a]), (z0, z1)),
        (np.array([0.0, 0.0, 1.0]), lambda a: np.array([a, 0.0, z0]), (x0, x1)),
        (np.array([0.0, 0.0, -1.0]), lambda a: np.array([a, 0.0, z1]), (x0, x1)),
    ]
    groups = []
    for normal, at, (lo, hi) in walls:
        length = hi - lo
        n_items = int(rng.integers(0, 4)) if length > 2.5 else 0
        for _ in range(n_items):
            kind = str(rng.choice(["window", "window", "door", "picture", "picture", "poster"]))
            if kind == "window":
                w, hh, bottom = rng.uniform(0.8, 2.0), rng.uniform(0.9, 1.6), rng.uniform(0.7, 1.1)
            elif kind == "door":
                w, hh, bottom = rng.uniform(0.8, 1.0), rng.uniform(2.0, 2.2), 0.0
            elif kind == "picture":
                w, hh, bottom = rng.uniform(0.3, 1.2), rng.uniform(0.3, 0.9), rng.uniform(1.1, 1.6)
            else:
                w, hh, bottom = rng.uniform(0.4, 0.8), rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.4)
            if w > length - 0.4 or bottom + hh > h - 0.1:
                continue
            a = rng.uniform(lo + 0.2 + w / 2, hi - 0.2 - w / 2)
            pw, ph = max(4, int(w * ppm)), max(4, int(hh * ppm))
            if kind == "window":
                t = np.linspace(0, 1, ph, dtype=np.float32)[:, None, None]
                sky = np.array([0.55, 0.72, 0.95], np.float32) * (1 - t) + np.array([0.92, 0.95, 1.0], np.float32) * t
                img = np.repeat(sky, pw, axis=1) * (1.1 if light.time_of_day != "night" else 0.15)
                fc = np.asarray(tx.jitter_color(rng, (0.92, 0.92, 0.9), 0.05, 0.3, 0.1), np.float32)
                b = max(1, int(0.06 * ppm))
                img[:b], img[-b:], img[:, :b], img[:, -b:] = fc, fc, fc, fc
                img[ph // 2 - b // 2: ph // 2 + b // 2 + 1] = fc
                img[:, pw // 2 - b // 2: pw // 2 + b // 2 + 1] = fc
                shade = None
            elif kind == "door":
                img = tx.planks(rng, ph, pw, 3)[..., None] * np.asarray(
                    tx.jitter_color(rng, (0.45, 0.3, 0.18), 0.05, 0.4, 0.3), np.float32)
                img = np.ascontiguousarray(img.transpose(1, 0, 2)) if img.shape[:2] != (ph, pw) else img
                img = cv2.resize(img, (pw, ph))
                cv2.circle(img, (int(pw * 0.85), int(ph * 0.52)), max(1, int(0.03 * ppm)), (0.8, 0.75, 0.5), -1)
                shade = light.shade(normal)
            else:
                n = tx.value_noise(rng, ph, pw, cells=float(rng.uniform(2, 6)), octaves=3)
                c1, c2 = tx.random_color(rng), tx.random_color(rng)
                img = tx.lerp_colors(n, c1, c2)
                if kind == "poster":
                    img = img * (0.7 + 0.3 * tx.stripes(ph, pw, max(2.0, ph / 12), 0)[..., None])
                b = max(1, int((0.04 if kind == "picture" else 0.01) * ppm))
                fc = np.asarray(tx.jitter_color(rng, (0.25, 0.18, 0.1), 0.05, 0.5, 0.5), np.float32)
                img[:b], img[-b:], img[:, :b], img[:, -b:] = fc, fc, fc, fc
                shade = light.shade(normal)
            sprite = Sprite(tx.rgba(np.clip(img, 0, 1.2).astype(np.float32)), float(w), float(hh), float(bottom))
            base = at(a) + normal * 0.01
            layer = billboard(sprite, base, normal, shade=shade)
            layer.normal = normal.copy()
            layer.fog = False
            groups.append(Group([[layer]], base + np.array([0.0, bottom + hh / 2, 0.0]), [], None, False, "decor", kind))
    return groups


def make_foliage_foreground(rng: Rng, size_m: float, light: Lighting, ppm: float) -> np.ndarray:
    """A cluster of leaves and twigs (premultiplied RGBA) for the near side of rack-focus shots."""
    px = int(np.clip(size_m * ppm, 16, 256))
    a = np.zeros((px, px), np.float32)
    col = np.zeros((px, px, 3), np.float32)
    base = np.asarray(tx.jitter_color(rng, (0.22, 0.4, 0.15), 0.08, 0.3, 0.3), np.float32)
    for _ in range(int(rng.integers(12, 30))):
        cx, cy = rng.uniform(0, px), rng.uniform(0, px)
        r1, r2 = rng.uniform(0.05, 0.16) * px, rng.uniform(0.02, 0.06) * px
        leaf = np.zeros((px, px), np.float32)
        cv2.ellipse(leaf, (int(cx), int(cy)), (int(max(1, r1)), int(max(1, r2))), float(rng.uniform(0, 180)), 0, 360,
                    1.0, -1, cv2.LINE_AA)
        c = base * float(rng.uniform(0.6, 1.3))
        col = col * (1 - leaf[..., None]) + c * leaf[..., None]
        a = np.maximum(a, leaf)
    col *= light.shade(None)
    return tx.rgba(np.clip(col, 0, 1.2), a)


def ground_overlay(rng: Rng, groups: list, centre: np.ndarray, extent: float, px: int = 256):
    """A ground-aligned RGB multiplier around `centre`: large-scale colour variation (patches,
    wear) and the shadows of every object that does not move (their decals are baked in and
    removed from the groups). It fades to 1 at its border. Returns ((x0, z0, m/texel), map)."""
    ext = float(np.clip(extent, 8.0, 400.0))
    x0, z0 = float(centre[0]) - ext / 2, float(centre[2]) - ext / 2
    res = ext / px
    cells = max(2.0, ext / float(rng.uniform(6.0, 25.0)))
    n = tx.value_noise(rng, px, px, cells=min(cells, px / 8), octaves=3)
    tint = np.asarray(tx.jitter_color(rng, (0.9, 0.9, 0.9), 0.1, 0.5, 0.05), np.float32)
    tint = tint / tint.mean()
    amp = float(rng.uniform(0.15, 0.45))
    ov = (1.0 - amp / 2 + amp * n)[..., None] * (1.0 + (tint - 1.0) * n[..., None])
    edge = np.minimum(np.arange(px), np.arange(px)[::-1]).astype(np.float32) / (px * 0.15)
    fade = np.clip(np.minimum(edge[:, None], edge[None, :]), 0, 1)[..., None]
    ov = 1.0 + (ov - 1.0) * fade
    smap = np.ones((px, px), np.float32)
    for g in groups:
        if g.mover is not None:
            continue
        for d in g.decals:
            a = d.levels[0][..., 3]
            h, w = a.shape
            src = np.array([[0, 0], [w, 0], [w, h]], np.float32) - 0.5
            dst = np.array([[(c[0] - x0) / res - 0.5, (c[2] - z0) / res - 0.5] for c in d.corners[:3]], np.float32)
            M = cv2.getAffineTransform(src, dst)
            warped = cv2.warpAffine(a, M, (px, px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=0.0)
            smap *= (1.0 - warped)
        g.decals = []
    ov = ov * smap[..., None]
    return (x0, z0, float(res)), np.ascontiguousarray(ov, np.float32)


# ---------------------------------------------------------------------------------------------
# Post

#: Share of daylight clips without sensor noise. Real footage reaches the model downscaled from
#: far larger frames, which averages its noise away, so a clean picture is the common case; noisy
#: ones keep the model robust. (Noise inflates the flow's parallax measure: with every clip noisy,
#: a zoom measured like a clean real dolly, and clean real dolly-outs were called zoom-outs.)
CLEAN_SHARE = 0.5


def _sensor_noise(u: float, time_of_day: str) -> float:
    """Noise sigma (0-1 scale) from one uniform draw `u`: none for `CLEAN_SHARE` of daylight clips,
    else 0.002-0.025 (twice that at night, always noisy)."""
    if time_of_day == "night":
        return (0.002 + 0.023 * u) * 2.0
    if u < CLEAN_SHARE:
        return 0.0
    return 0.002 + 0.023 * (u - CLEAN_SHARE) / (1.0 - CLEAN_SHARE)


def make_post_fx(rng: Rng, time_of_day: str) -> PostFX:
    exposure = float(rng.uniform(0.85, 1.2))
    if time_of_day == "night":
        exposure *= float(rng.uniform(1.6, 2.2))
    elif time_of_day == "dusk":
        exposure *= 1.2
    return PostFX(
        exposure=exposure,
        contrast=float(rng.uniform(0.85, 1.2)),
        saturation=float(rng.uniform(0.7, 1.3)),
        tint=tuple(float(v) for v in (1 + rng.uniform(-0.06, 0.06, 3))),
        gamma=float(rng.uniform(0.85, 1.15)),
        vignette=float(rng.uniform(0.0, 0.45)) if rng.random() < 0.7 else 0.0,
        noise=_sensor_noise(float(rng.random()), time_of_day),
        softness=float(rng.uniform(0.3, 0.8)) if rng.random() < 0.3 else 0.0,
    )
