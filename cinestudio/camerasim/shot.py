"""The shot API: a framing, an angle and camera movements in, rendered frames and exact camera
parameters out. Used by the dataset generator and by the storyboard's previz renderer.

>>> shot = render_shot(ShotSpec("close_up", "low_angle", ["pan_left", "zoom_in"], frames=16, size=128, seed=3))
>>> shot.frames.shape, shot.camera[0]["yaw"]

With `reference_image` the camera moves over that still instead (a planar move: pans and
trucks slide it, zooms and dollies scale it about the centre, rolls turn it, rack focus
blurs it...), see `cinestudio.camerasim.still`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from cinestudio.camerasim import scene as sc
from cinestudio.camerasim import textures as tx
from cinestudio.camerasim.camera import (ADULT_HEIGHT_M, ANGLE_SPECS, FRAMING_VISIBLE_HEIGHT, KNOWN_MOVES, SCALE_MOVES,
                                         Camera, CameraPath, MoveParams, PathContext, angle_ok, apply_move,
                                         camera_path, frame_subject, horizontal_right, sample_move, scale_ratio)
from cinestudio.camerasim.figures import random_style
from cinestudio.camerasim.render import Renderer
from cinestudio.errors import UnknownClassError, UserInputError

FRAMINGS = tuple(FRAMING_VISIBLE_HEIGHT)
ANGLES = tuple(ANGLE_SPECS)
MOVEMENTS = tuple(sorted(KNOWN_MOVES))

#: Where the subject starts in frame for moves that would carry it out of view
#: (x: + right, y: + up; the content moves the opposite way to the camera).
_MOVE_BIAS = {
    "pan_left": (-0.45, 0.0), "pan_right": (0.45, 0.0), "truck_left": (-0.4, 0.0), "truck_right": (0.4, 0.0),
    "tilt_up": (0.0, 0.4), "tilt_down": (0.0, -0.4), "pedestal_up": (0.0, 0.35), "pedestal_down": (0.0, -0.35),
}


@dataclass
class ShotSpec:
    """What to render. `movements` run one after another over the clip."""

    framing: str = "medium_shot"
    angle: str = "eye_level"
    movements: list = field(default_factory=lambda: ["static"])
    frames: int = 16
    size: int | tuple = 128  # int: square; (width, height)
    fps: float = 8.0
    seed: int = 0
    reference_image: np.ndarray | None = None
    strength: float = 1.0  # scales move amounts
    subject: bool | None = None  # None: always, except some extreme long shots
    environment: str | None = None  # "outdoor", "indoor" or None (drawn)
    time_of_day: str | None = None
    strict: bool = True  # resample until every frame stays inside its framing and angle classes
    want_masks: bool = False  # also return the subject's coverage per frame
    # handheld wobble on top of every frame (0: none), in the `handheld` move's units: a nuisance
    # that real footage has whatever its move, not a move of its own
    shake: float = 0.0
    # Share of the shots whose subject walks across the frame on its own, the camera making its move
    # regardless (0 here; `simulate` uses `dataset.DEFAULT_SUBJECT_WALKS`). Real shots are mostly a
    # still camera on people who move; with a subject that stands still unless the camera follows
    # it, CameraCLIP called real static shots of moving people tracking. Never in tracking shots
    # (the camera follows the walk) nor rack focus ones: a subject walking out of the sharp centre
    # reads as a focus change, and static shots of walking people were then called rack focus.
    subject_walks: float = 0.0
    # Share of the shots in which a stranger walks across the view at about the subject's distance
    # (0 here): real footage is full of passers-by crossing a still background in focus, while the
    # simulator's other walkers stay small and far behind the subject. Never in rack focus shots
    # (something crossing the sharp centre reads as a focus change). Drawn from the shot's seed
    # apart, so a shot's other draws stay as they were.
    passers_by: float = 0.0

    @property
    def width(self) -> int:
        return int(self.size if isinstance(self.size, int) else self.size[0])

    @property
    def height(self) -> int:
        return int(self.size if isinstance(self.size, int) else self.size[1])


@dataclass
class RenderedShot:
    frames: np.ndarray  # (F, H, W, 3) uint8 RGB
    camera: list  # per frame: Camera.to_dict() plus subject_depth, visible_height
    spec: ShotSpec
    params: dict  # summary: moves, subject, scene description, start/end
    subject_masks: np.ndarray | None = None  # (F, H, W) float32 when spec.want_masks

    @property
    def cameras(self) -> list:
        return self.camera


#: Moves whose amount may be reduced to keep a shot inside its classes.
_SHRINKABLE = {"pan_left", "pan_right", "tilt_up", "tilt_down", "truck_left", "truck_right", "pedestal_up",
               "pedestal_down", "crane_up", "crane_down", "arc_left", "arc_right", "roll_clockwise",
               "roll_anticlockwise", "tracking"}


def validate_spec(spec: ShotSpec) -> None:
    if spec.framing not in FRAMING_VISIBLE_HEIGHT:
        raise UnknownClassError(spec.framing, f"unknown framing for the simulator (known: {', '.join(FRAMINGS)})")
    if spec.angle not in ANGLE_SPECS:
        raise UnknownClassError(spec.angle, f"unknown angle for the simulator (known: {', '.join(ANGLES)})")
    moves = list(spec.movements) or ["static"]
    for m in moves:
        if m not in KNOWN_MOVES:
            raise UnknownClassError(m, f"unknown movement for the simulator (known: {', '.join(MOVEMENTS)})")
    if spec.frames < 1:
        raise UserInputError(str(spec.frames), "a shot needs at least one frame")
    if spec.width < 8 or spec.height < 8 or spec.width > 4096 or spec.height > 4096:
        raise UserInputError(f"{spec.width}x{spec.height}", "frame size must be between 8 and 4096 pixels")
    if not (spec.fps and spec.fps > 0):
        raise UserInputError(str(spec.fps), "fps must be positive")
    if not (0.0 <= spec.subject_walks <= 1.0):
        raise UserInputError(str(spec.subject_walks), "the share of walking subjects must be between 0 and 1")
    if not (0.0 <= spec.passers_by <= 1.0):
        raise UserInputError(str(spec.passers_by), "the share of shots with a passer-by must be between 0 and 1")


# ---------------------------------------------------------------------------------------------
# Planning: a camera path that stays inside its classes

@dataclass
class ShotPlan:
    spec: ShotSpec
    start: Camera
    path: CameraPath
    target: np.ndarray
    subject: bool
    subject_height: float
    subject_depth: float
    rack: dict | None
    environment: str
    walk_dir: np.ndarray | None
    composition: tuple
    in_class: bool = True  # every frame inside its framing and angle classes
    attempts: int = 1


def _visible_ok(cam: Camera, target: np.ndarray, framing: str, subject_height: float, w: int, h: int) -> bool:
    depth = cam.depth_of(target)
    if depth <= 0.02:
        return False
    v = cam.visible_height_at(depth, w, h)
    lo, hi = FRAMING_VISIBLE_HEIGHT[framing]
    s = subject_height / ADULT_HEIGHT_M
    return lo * s * 0.999 <= v <= hi * s * 1.001


def _subject_walk(rng: np.random.Generator, path: CameraPath, target: np.ndarray, depth: float,
                  W: int, H: int) -> np.ndarray | None:
    """Per-frame displacement (F, 3) of a subject that walks sideways (as the first camera sees it)
    by 8-30 % of the frame's width at its distance, mostly towards the centre; None if it would
    leave the frame."""
    cams = path.cameras
    if len(cams) < 2:
        return None  # a still: nothing to walk in
    right = cams[0].c2w()[:, 0].copy()
    right[1] = 0.0
    if np.linalg.norm(right) < 1e-6:
        return None
    right /= np.linalg.norm(right)
    vis_w = cams[0].visible_height_at(max(depth, 0.05), W, H) * W / H
    u0 = float(cams[0].project((target + path.subject_offsets[0])[None], W, H)[0][0, 0])
    toward_centre = -1.0 if u0 > W / 2 else 1.0
    sign = toward_centre if rng.random() < 0.7 else -toward_centre
    dist = float(rng.uniform(0.08, 0.3)) * vis_w
    walk = np.linspace(0.0, 1.0, len(cams))[:, None] * (right * sign * dist)[None]
    for i in (0, len(cams) // 2, len(cams) - 1):
        uv, z = cams[i].project((target + path.subject_offsets[i] + walk[i])[None], W, H)
        if z[0] <= 0 or not (0.12 * W <= uv[0, 0] <= 0.88 * W):
            return None
    return walk


def plan_shot(spec: ShotSpec, rng: np.random.Generator) -> ShotPlan:
    validate_spec(spec)
    W, H = spec.width, spec.height
    moves = [m for m in spec.movements] or ["static"]
    # a tracking shot follows someone: without a subject it would be a truck, labelled tracking
    has_subject = spec.subject if spec.subject is not None else (
        spec.framing != "extreme_long_shot" or "tracking" in moves or rng.random() < 0.75)
    subject_height = float(rng.uniform(1.55, 1.95))
    duration = spec.frames / spec.fps
    strength = spec.strength
    last = None
    lo, hi = FRAMING_VISIBLE_HEIGHT[spec.framing]
    for attempt in range(80):
        if attempt and attempt % 12 == 0:
            strength *= 0.85
        first = moves[0]
        bias = _MOVE_BIAS.get(first, (0.0, 0.0))
        bias = (bias[0] * min(1.0, strength), bias[1] * min(1.0, strength))
        if first == "rack_focus":
            bias = (float(rng.choice([-0.3, 0.3])), 0.0)
        # zooms and dollies change the framing: keep both ends inside the class
        ratio = 1.0
        scaling = [m for m in moves if m in SCALE_MOVES]
        ratios = {}
        if scaling:
            cap = (hi / lo) ** (1.0 / len(scaling)) * 0.97
            for i, m in enumerate(moves):
                if m in SCALE_MOVES:
                    r = min(scale_ratio(rng, m, strength), cap)
                    ratios[i] = max(r, 1.05)
            net_in = 1.0
            min_v, max_v = 1.0, 1.0
            for i, m in enumerate(moves):
                if i in ratios:
                    net_in *= ratios[i] if m.endswith("_in") else 1 / ratios[i]
                    min_v = min(min_v, 1 / net_in)
                    max_v = max(max_v, 1 / net_in)
            # visible height at the start V0 must keep V0*min_v >= lo and V0*max_v <= hi
            vr = (lo / min_v, hi / max_v)
            if vr[0] >= vr[1]:
                vr = (math.sqrt(lo * hi),) * 2
            ratio = 1.0
        else:
            vr = None
        framed = frame_subject(rng, spec.framing, spec.angle, W, H, subject_height=subject_height, bias=bias,
                               visible_range=vr)
        start = framed.camera
        ctx = PathContext(W, H, framed.target.copy(), framed.subject_depth, framing=spec.framing, angle=spec.angle,
                          subject_height=subject_height, fps=spec.fps)
        # depth of field: focus on the subject, deep or shallow
        f_px = start.focal_px(W)
        if spec.framing == "extreme_long_shot" or rng.random() < 0.55:
            f_number = float(rng.uniform(8, 22))
        else:
            blur = float(rng.uniform(0.01, 0.045)) * W
            aperture = blur / (f_px * (1.0 / framed.subject_depth))
            f_number = max(0.7, start.focal_mm / 1000.0 / aperture)
        start = start.replace(focus_m=framed.subject_depth, f_number=f_number)
        rack = None
        if "rack_focus" in moves:
            rack = _plan_rack(rng, start, framed.subject_depth, framed.composition, W, H, has_subject)
            start = start.replace(focus_m=rack["from"], f_number=rack["f_number"])
            ctx.rack_depths = (rack["from"], rack["to"])
        mvs = []
        for i, m in enumerate(moves):
            mv = sample_move(rng, m, start, ctx, strength)
            if i in ratios:
                mv.amount = ratios[i]
            if mv.kind == "handheld":
                mv.extra["duration"] = spec.frames / spec.fps
            mvs.append(mv)
        delay = (float(rng.uniform(0.0, 0.12)), float(rng.uniform(0.88, 1.0))) if len(moves) == 1 else (0.0, 1.0)
        if moves == ["rack_focus"] or moves == ["static"] or moves == ["handheld"]:
            delay = (0.0, 1.0)
        # check a few frames (moves are monotonic), then build the full path once accepted;
        # translations that leave the class are first tried smaller (down to about half)
        def fits(mvs_try) -> bool:
            path = camera_path(start, mvs_try, min(spec.frames, 5), ctx, delay)
            for cam, off in zip(path.cameras, path.subject_offsets):
                if cam.height < 0.05 or not angle_ok(spec.angle, cam):
                    return False
                if not _visible_ok(cam, framed.target + off, spec.framing, subject_height, W, H):
                    return False
            return True

        ok = fits(mvs)
        shrinkable = [mv for mv in mvs if mv.kind in _SHRINKABLE]
        for factor in (0.75, 0.55):
            if ok or not shrinkable:
                break
            trial = [MoveParams(mv.kind, mv.amount * factor, mv.easing, dict(mv.extra)) if mv.kind in _SHRINKABLE
                     else mv for mv in mvs]
            if fits(trial):
                mvs, ok = trial, True
        last = (start, mvs, ctx, delay, framed, rack, ok, attempt)
        if ok or not spec.strict:
            break
    start, mvs, ctx, delay, framed, rack, in_class, attempts = last
    path = camera_path(start, mvs, spec.frames, ctx, delay)
    if spec.shake > 0:
        _add_shake(path, spec, ctx)
    for i, cam in enumerate(path.cameras):  # whatever happened, stay above the ground
        if cam.height < 0.05:
            path.cameras[i] = cam.moved((0.0, 0.05 - cam.height, 0.0))
    walk_dir = None
    if "tracking" in moves:
        d = path.subject_offsets[-1] - path.subject_offsets[0]
        n = np.linalg.norm(d)
        walk_dir = d / n if n > 1e-9 else None
    elif spec.subject_walks > 0 and has_subject and "rack_focus" not in moves and rng.random() < spec.subject_walks:
        walk = _subject_walk(rng, path, framed.target, framed.subject_depth, W, H)
        if walk is not None:
            path.subject_offsets = path.subject_offsets + walk
            walk_dir = walk[-1] / np.linalg.norm(walk[-1])
    plan = ShotPlan(spec, start, path, framed.target, bool(has_subject), subject_height, framed.subject_depth,
                    rack, "outdoor", walk_dir, framed.composition, in_class, attempts + 1)
    plan.environment = _choose_environment(rng, spec, plan)
    return plan


def _add_shake(path: CameraPath, spec: ShotSpec, ctx: PathContext) -> None:
    """Wobble every camera of `path` like a hand-held one (`spec.shake`), from its own seed so a
    shot's other draws stay as they were."""
    srng = np.random.default_rng([spec.seed, 0x5A4E])
    wobble = MoveParams("handheld", float(spec.shake), "linear",
                        {"phases": srng.uniform(0, 2 * math.pi, size=12).tolist(),
                         "freqs": srng.uniform(0.5, 2.5, size=12).tolist(),
                         "duration": spec.frames / spec.fps})
    n = len(path.cameras)
    for i, cam in enumerate(path.cameras):
        path.cameras[i], _ = apply_move(cam, wobble, i / max(n - 1, 1), ctx)


def _plan_rack(rng, cam: Camera, subject_depth: float, composition, W: int, H: int, has_subject: bool) -> dict:
    if subject_depth > 2.5 or not has_subject:
        near = float(np.clip(rng.uniform(0.2, 0.45) * subject_depth, 0.35, 6.0))
        far = subject_depth
        partner = "near"
    else:
        near = subject_depth
        far = float(np.clip(rng.uniform(4.0, 10.0) * subject_depth, 2.5, 25.0))
        partner = "far"
    pair = (near, far) if rng.random() < 0.5 else (far, near)
    blur = float(rng.uniform(0.05, 0.09)) * W
    f_px = cam.focal_px(W)
    aperture = blur / (f_px * abs(1.0 / near - 1.0 / far))
    f_number = cam.focal_mm / 1000.0 / aperture
    side = -1.0 if composition[0] > 0 else 1.0
    return {"from": pair[0], "to": pair[1], "near": near, "far": far, "partner": partner,
            "partner_depth": near if partner == "near" else far, "f_number": float(f_number), "side": side}


def _choose_environment(rng, spec: ShotSpec, plan: ShotPlan) -> str:
    if spec.environment in ("indoor", "outdoor"):
        if spec.environment == "indoor" and _room_fits(plan) is None:
            return "outdoor"
        return spec.environment
    if spec.framing in ("extreme_long_shot",) or rng.random() > 0.3:
        return "outdoor"
    return "indoor" if _room_fits(plan) is not None else "outdoor"


def _room_fits(plan: ShotPlan):
    pos = np.array([c.position for c in plan.path.cameras])
    if pos[:, 1].max() > 4.8:
        return None
    return True


# ---------------------------------------------------------------------------------------------
# Scene assembly around a plan

def _in_view_points(rng, cam: Camera, W: int, H: int, n: int, dmin: float, dmax: float, margin: float = 1.3):
    """Ground points seen by `cam` (in a frame `margin` times wider), distance within [dmin, dmax]."""
    out = []
    m = cam.c2w()
    f = cam.focal_px(W)
    for _ in range(n * 12):
        if len(out) >= n:
            break
        u = rng.uniform(-0.5, 0.5) * W * margin
        v = rng.uniform(-0.5, 0.5) * H * margin
        d = m @ np.array([u / f, -v / f, 1.0])
        if d[1] >= -1e-4:
            # above the horizon: a far point in that direction (ground below it)
            dd = np.array([d[0], 0.0, d[2]])
            if np.linalg.norm(dd) < 1e-6:
                continue
            dist = math.exp(rng.uniform(math.log(max(dmin, 1.0)), math.log(max(dmax, dmin * 1.01, 1.1))))
            p = np.asarray(cam.position) + dd / np.linalg.norm(dd) * dist
            p[1] = 0.0
            out.append(p)
            continue
        t = -cam.position[1] / d[1]
        p = np.asarray(cam.position) + t * d
        dist = math.hypot(p[0] - cam.position[0], p[2] - cam.position[2])
        if dmin <= dist <= dmax:
            p[1] = 0.0
            out.append(p)
    return out


def _subject_box(plan: ShotPlan, cam: Camera, W: int, H: int, offset=np.zeros(3)):
    """Screen bbox (x0, y0, x1, y1) and depth of the subject's body."""
    hgt = plan.subject_height
    r = 0.3 * hgt / 1.75
    pts = []
    for dx in (-r, r):
        for dz in (-r, r):
            for y in (0.0, hgt):
                pts.append([dx, y, dz])
    pts = np.array(pts) + offset
    uv, z = cam.project(pts, W, H)
    if (z <= 0.01).any():
        return None, float(z.max())
    return (uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()), float(z.min())


def _occludes(plan: ShotPlan, base: np.ndarray, radius: float, height: float, W: int, H: int) -> bool:
    """Would an object at `base` hide the subject in the first or last frame?"""
    if not plan.subject:
        return False
    if math.hypot(base[0], base[2]) < 0.7 + radius:
        return True
    cams = [plan.path.cameras[0], plan.path.cameras[-1]]
    offs = [plan.path.subject_offsets[0], plan.path.subject_offsets[-1]]
    if np.linalg.norm(offs[-1]) > 0.01:
        # the subject walks: keep its whole track clear
        for s in np.linspace(0, 1, 5):
            p = offs[0] + (offs[-1] - offs[0]) * s
            if math.hypot(base[0] - p[0], base[2] - p[2]) < 0.8 + radius:
                return True
    for cam, off in zip(cams, offs):
        box, zs = _subject_box(plan, cam, W, H, off)
        if box is None:
            continue
        pts = []
        for dx in (-radius, radius):
            for dz in (-radius, radius):
                for y in (0.0, height):
                    pts.append([base[0] + dx, y, base[2] + dz])
        uv, z = cam.project(np.array(pts), W, H)
        if (z <= 0.01).all():
            continue
        if float(z[z > 0.01].min()) > zs + 0.3:
            continue
        if (z <= 0.01).any():
            return True
        ox0, oy0, ox1, oy1 = uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()
        x0, y0, x1, y1 = box
        if ox0 < x1 and ox1 > x0 and oy0 < y1 and oy1 > y0:
            return True
    return False


def _too_prominent(plan: ShotPlan, base: np.ndarray, radius: float, height: float, person: bool) -> bool:
    """Would an object steal the show? A bystander must look smaller than the subject (or tiny
    when there is none), so the framing label stays about the subject; other things may not fill
    more than about a third of the frame."""
    W, H = plan.spec.width, plan.spec.height
    for i in (0, -1):
        cam = plan.path.cameras[i]
        pts = np.array([[base[0] + dx, y, base[2] + dz] for dx in (-radius, radius) for dz in (-radius, radius)
                        for y in (0.0, height)])
        uv, z = cam.project(pts, W, H)
        if (z <= 0.05).any():
            if (z > 0.05).any() and not person:
                return True  # straddles the camera: would cover the view
            if person and (z > 0.05).any():
                return True
            continue
        if person:
            tall = (uv[:, 1].max() - uv[:, 1].min()) / H
            if plan.subject:
                box, _ = _subject_box(plan, cam, W, H, plan.path.subject_offsets[i])
                if box is not None and tall > 0.8 * (box[3] - box[1]) / H:
                    return True
            elif tall > 0.12:
                return True
        else:
            x0, x1 = np.clip([uv[:, 0].min(), uv[:, 0].max()], 0, W)
            y0, y1 = np.clip([uv[:, 1].min(), uv[:, 1].max()], 0, H)
            if (x1 - x0) * (y1 - y0) > 0.35 * W * H:
                return True
    return False


def _ppm_for(cam: Camera, W: int, pos: np.ndarray, plan: ShotPlan, lo=6.0, hi=300.0) -> float:
    d = min(float(np.linalg.norm(np.asarray(c.position) - pos)) for c in (plan.path.cameras[0], plan.path.cameras[-1]))
    focal = max(c.focal_px(W) for c in (plan.path.cameras[0], plan.path.cameras[-1]))
    return float(np.clip(1.3 * focal / max(d, 0.1), lo, hi))


def assemble_scene(rng: np.random.Generator, plan: ShotPlan) -> sc.Scene:
    spec = plan.spec
    W, H = spec.width, spec.height
    indoor = plan.environment == "indoor"
    tod = spec.time_of_day or (str(rng.choice(sc.TIMES_OF_DAY)) if not indoor else "day")
    light = sc.make_lighting(rng, tod, indoor)
    window = sky_window(plan.path.cameras, W, H)
    sky, sky_desc = sc.make_sky(rng, light, window)
    ground_kind = str(rng.choice(sc.INDOOR_FLOORS if indoor else sc.OUTDOOR_GROUNDS))
    gtex, gtile = sc.ground_texture(rng, ground_kind)
    gtex = gtex * light.shade(sc.UP)
    ground_levels = tx.mipmaps(np.ascontiguousarray(gtex, np.float32))
    fog_d = {"overcast": rng.uniform(150, 600), "night": rng.uniform(200, 800), "dusk": rng.uniform(200, 900)}.get(
        tod, rng.uniform(300, 2500))
    if rng.random() < 0.15:
        fog_d = rng.uniform(60, 200)  # hazy / misty
    groups: list = []
    movers: list = []
    desc = {"environment": plan.environment, "time_of_day": tod, "ground": ground_kind, "relief": sky_desc["relief"],
            "objects": []}
    room = None
    cams = plan.path.cameras
    cam0 = cams[0]
    if indoor:
        pos = np.array([c.position for c in cams] + [[0.0, 0.0, 0.0]] +
                       [list(o) for o in plan.path.subject_offsets[[0, -1]]])
        lo = pos.min(axis=0) - rng.uniform(1.5, 6.0, 3)
        hi = pos.max(axis=0) + rng.uniform(1.5, 6.0, 3)
        # the wall the camera looks at should be a few metres behind the subject
        height = float(max(2.6, pos[:, 1].max() + rng.uniform(0.5, 1.6)))
        walls = []
        wall_desc = None
        for _ in range(2):
            wt, wtile, wall_desc = sc.wall_texture(rng)
            walls.append(tx.mipmaps(np.ascontiguousarray(wt * light.shade(None), np.float32)))
        room = sc.Room((float(lo[0]), float(hi[0]), 0.0, height, float(lo[2]), float(hi[2])), walls,
                       (float(rng.uniform(2, 4)), float(rng.uniform(2, 4))),
                       np.asarray(tx.jitter_color(rng, (0.92, 0.92, 0.9), 0.05, 0.2, 0.1), np.float32) * light.shade(None))
        desc["walls"] = wall_desc
        fog_d = 1e9
        decor = sc.make_wall_decor(rng, room, light, ppm=float(np.clip(1.5 * H / 2.0, 20, 120)))
        groups.extend(decor)
        desc["objects"].extend(g.name for g in decor)
    fog_col = light.horizon.astype(np.float32)

    subject_group = None
    style = None
    if plan.subject:
        style = random_style(rng, plan.subject_height)
        vis = min(c.visible_height_at(max(c.depth_of(plan.target + o), 0.02), W, H)
                  for c, o in zip(cams, plan.path.subject_offsets))
        close = spec.framing in ("extreme_close_up", "close_up", "medium_close_up")
        bottom_frac = 0.4 if close else 0.0
        ppm_body = float(np.clip(1.1 * H / max(vis, 1e-3), 20, 560.0 / ((0.9 - bottom_frac) * style.height)))
        ppm_head = float(np.clip(1.1 * H / max(vis, 1e-3), 30, 560.0 / (0.24 * style.height)))
        walking = plan.walk_dir is not None
        n_poses = 6 if walking else 1
        if walking:
            ppm_body = min(ppm_body, 320.0 / ((0.9 - bottom_frac) * style.height))
        top_needed = _max_elevation(cams, np.array([0.0, 0.88 * style.height, 0.0])) > 56.0
        pose_layers, style, decals = sc.make_figure(rng, np.zeros(3), np.asarray(cam0.position), light, ppm_body,
                                                    ppm_head, style, plan.walk_dir, poses=n_poses,
                                                    bottom_frac=bottom_frac, need_top=top_needed)
        mover = None
        if walking:
            movers.append(sc.Mover(np.zeros(3), 1.4 * style.height / 1.75, offsets=plan.path.subject_offsets.copy(),
                                   phase0=float(rng.random())))
            mover = len(movers) - 1
        groups.append(sc.Group(pose_layers, np.array([0.0, 0.9, 0.0]), decals, mover, True, "subject", "person",
                               fade_point=np.array([0.0, 0.88 * style.height, 0.0])))
        subject_group = 0

    # rack-focus partner
    if plan.rack is not None:
        rk = plan.rack
        z = rk["partner_depth"]
        m = cam0.c2w()
        hf, vf = cam0.fov(W, H)
        xs = rk["side"] * rng.uniform(0.3, 0.6) * math.tan(math.radians(hf) / 2) * z
        ys = rng.uniform(-0.3, 0.3) * math.tan(math.radians(vf) / 2) * z
        p = np.asarray(cam0.position) + m @ np.array([xs, ys, z])
        if rk["partner"] == "near":
            size_m = cam0.visible_height_at(z, W, H) * rng.uniform(0.5, 0.9)
            img = sc.make_foliage_foreground(rng, size_m, light, ppm=1.3 * H / max(size_m, 1e-3) * size_m / max(size_m, 1e-3))
            sp_w = size_m
            centre = p + m[:, 0] * rk["side"] * size_m * 0.25
            u = m[:, 0] * sp_w
            v = -m[:, 1] * sp_w
            tl = centre - u / 2 - v / 2
            corners = np.array([tl, tl + u, tl + u + v, tl + v])
            layer = sc.Layer(corners, tx.mipmaps(img), None, None, fog=True)
            groups.append(sc.Group([[layer]], centre, [], None, False, "foreground", "foliage"))
            desc["objects"].append("foreground foliage")
        else:
            if 0.2 < p[1] < 25 and _inside_room(room, p, 0.3):
                base = np.array([p[0], 0.0, p[2]])
                ppm = _ppm_for(cam0, W, base, plan)
                if p[1] < 1.4:
                    kind = str(rng.choice(["figure", "bush", "crate"]))
                elif p[1] < 9:
                    kind = "tree" if not indoor else "post"
                else:
                    kind = "building" if not indoor else None
                if kind is not None:
                    _add_object(rng, groups, movers, desc, kind, base, cam0, light, ppm, plan, indoor, force=True,
                                min_height=p[1] * 1.15)

    # other objects: in view, around the subject, and far away
    n_view = int(rng.integers(3, 8)) if indoor else int(rng.integers(6, 14))
    sd = max(plan.subject_depth, 1.0)
    dmax = (sd * 6 + 10) if not indoor else 30.0
    pts = _in_view_points(rng, cam0, W, H, n_view, 0.6, dmax, margin=1.6)
    radius_around = max(6.0, 3 * sd)
    for _ in range(int(rng.integers(3, 9))):
        a = rng.uniform(0, 2 * math.pi)
        r = radius_around * math.sqrt(rng.uniform(0.05, 1.0))
        pts.append(np.array([math.cos(a) * r, 0.0, math.sin(a) * r]))
    for base in pts:
        if not _inside_room(room, base, 0.5):
            continue
        kind = _pick_kind(rng, indoor)
        ppm = _ppm_for(cam0, W, base, plan)
        _add_object(rng, groups, movers, desc, kind, base, cam0, light, ppm, plan, indoor)
    if not indoor:
        for base in _in_view_points(rng, cam0, W, H, int(rng.integers(0, 6)), 40.0, 300.0, margin=2.0):
            kind = str(rng.choice(["tree", "tree", "building"]))
            _add_object(rng, groups, movers, desc, kind, base, cam0, light, _ppm_for(cam0, W, base, plan), plan, indoor)
    # people walking by (behind the subject)
    if rng.random() < 0.35:
        for base in _in_view_points(rng, cam0, W, H, int(rng.integers(1, 3)), sd + 3.0, sd * 4 + 15, margin=1.0):
            if not _inside_room(room, base, 1.0):
                continue
            a = rng.uniform(0, 2 * math.pi)
            vel = np.array([math.cos(a), 0.0, math.sin(a)]) * rng.uniform(0.6, 1.5)
            if room is not None:
                vel *= 0.5
            end = base + vel * spec.frames / spec.fps
            if _too_prominent(plan, base, 0.3, 1.9, True) or _too_prominent(plan, end, 0.3, 1.9, True):
                continue
            _add_walker(rng, base, vel, vel / np.linalg.norm(vel), _ppm_for(cam0, W, base, plan, hi=200.0), cams,
                        light, groups, movers, desc, "person walking")

    if spec.passers_by > 0:
        _add_passer_by(plan, light, groups, movers, desc, room)

    post = sc.make_post_fx(rng, tod)
    # the ground patch the clip sees: around the subject, out to a few times its distance
    reach = max(20.0, 4.0 * max(plan.subject_depth, 1.0) + 2.0 * max(c.position[1] for c in cams))
    if room is not None:
        reach = max(room.bounds[1] - room.bounds[0], room.bounds[5] - room.bounds[4]) + 2.0
    overlay = sc.ground_overlay(rng, groups, np.zeros(3), 2 * reach)
    return sc.Scene(plan.environment, light, sky, ground_levels, gtile, fog_col, float(fog_d), groups, movers, post,
                    room, subject_group, plan.subject_height, style, desc, window, overlay)


def _add_passer_by(plan: ShotPlan, light, groups: list, movers: list, desc: dict, room) -> bool:
    """In `plan.spec.passers_by` of the shots (not rack focus), a stranger walking across the view
    at 0.8-2x the subject's distance (at least 1.5 m), mostly sideways, through the middle of the
    frame half-way through the clip. Draws from its own generator (the shot's seed apart)."""
    spec = plan.spec
    prng = np.random.default_rng([spec.seed, 0xB1C])
    if prng.random() >= spec.passers_by or any(m.kind == "rack_focus" for m in plan.path.moves):
        return False
    W, H = spec.width, spec.height
    cams = plan.path.cameras
    cam0 = cams[0]
    sd = max(plan.subject_depth, 1.0)
    seconds = spec.frames / spec.fps
    right = horizontal_right(cam0)
    for _ in range(8):
        pts = _in_view_points(prng, cam0, W, H, 1, max(1.5, 0.8 * sd), 2.0 * sd + 3.0, margin=0.8)
        if not pts:
            continue
        a = prng.uniform(-0.35, 0.35) + (math.pi if prng.random() < 0.5 else 0.0)
        c, s_ = math.cos(a), math.sin(a)
        heading = np.array([c * right[0] - s_ * right[2], 0.0, s_ * right[0] + c * right[2]])
        heading /= max(np.linalg.norm(heading), 1e-9)
        vel = heading * prng.uniform(0.8, 1.6) * (0.5 if room is not None else 1.0)
        base = pts[0] - vel * seconds / 2
        end = pts[0] + vel * seconds / 2
        if not (_inside_room(room, base, 0.5) and _inside_room(room, end, 0.5)):
            continue
        if min(cam.depth_of(q) for cam in (cams[0], cams[-1]) for q in (base, end)) < 1.0:
            continue  # would walk into (or behind) the camera
        _add_walker(prng, base, vel, heading, _ppm_for(cam0, W, pts[0], plan, hi=400.0), cams, light, groups, movers,
                    desc, "person passing by")
        return True
    return False


def _inside_room(room, p, margin: float) -> bool:
    """Whether ground point `p` is at least `margin` metres inside the room's walls (always, outdoors)."""
    if room is None:
        return True
    x0, x1, _, _, z0, z1 = room.bounds
    return bool(x0 + margin < p[0] < x1 - margin and z0 + margin < p[2] < z1 - margin)


def _add_walker(rng, base, vel, walk_dir, ppm: float, cams, light, groups: list, movers: list, desc: dict,
                label: str) -> None:
    """A figure walking from `base` at `vel` (m/s) through the clip, described as `label`."""
    poses, st, decals = sc.make_figure(rng, base, np.asarray(cams[0].position), light, ppm, ppm * 1.2,
                                       walk_dir=walk_dir, poses=4,
                                       need_top=_max_elevation(cams, base + np.array([0, 1.5, 0])) > 50.0)
    movers.append(sc.Mover(vel, 1.4 * st.height / 1.75, phase0=float(rng.random())))
    groups.append(sc.Group(poses, base + np.array([0.0, 0.9, 0.0]), decals, len(movers) - 1, False, "walker",
                           label, fade_point=base + np.array([0.0, 0.88 * st.height, 0.0])))
    desc["objects"].append(label)


def sky_window(cams, W: int, H: int, margin_deg: float = 4.0) -> sc.SkyWindow:
    """The azimuth/elevation window of sky the cameras can see (full turn when it is wide)."""
    gx = np.linspace(-(W - 1) / 2, (W - 1) / 2, 7)
    gy = np.linspace(-(H - 1) / 2, (H - 1) / 2, 7)
    px, py = np.meshgrid(gx, gy)
    az_c = None
    amin, amax, emin, emax, fmax = 1e9, -1e9, 1e9, -1e9, 0.0
    for cam in (cams[0], cams[len(cams) // 2], cams[-1]) if len(cams) > 2 else cams:
        m = cam.c2w()
        f = cam.focal_px(W)
        d = (m[:, 0][None, None] * (px / f)[..., None] - m[:, 1][None, None] * (py / f)[..., None] + m[:, 2])
        az = np.arctan2(d[..., 0], d[..., 2])
        el = np.degrees(np.arctan2(d[..., 1], np.hypot(d[..., 0], d[..., 2])))
        if az_c is None:
            fw = m[:, 2]
            az_c = math.atan2(fw[0], fw[2])
        rel = (az - az_c + math.pi) % (2 * math.pi) - math.pi
        amin, amax = min(amin, rel.min()), max(amax, rel.max())
        emin, emax = min(emin, el.min()), max(emax, el.max())
        fmax = max(fmax, f)
    hfov_px_per_deg = fmax * math.pi / 180.0  # pixels per degree at the centre, longest lens
    ppd = float(np.clip(1.2 * hfov_px_per_deg, 1.5, 14.0))
    lo = max(sc.SKY_ELEV[0], emin - margin_deg)
    hi = min(sc.SKY_ELEV[1], emax + margin_deg)
    if hi <= lo:
        hi = lo + 1.0
    span = (amax - amin) + math.radians(2 * margin_deg)
    if emax > 70 or span > 1.5 * math.pi:
        az0, span = 0.0, 2 * math.pi
    else:
        az0 = az_c + amin - math.radians(margin_deg)
    # keep the panorama small
    while math.degrees(span) * (hi - lo) * ppd * ppd > 300_000 and ppd > 1.0:
        ppd *= 0.85
    return sc.SkyWindow(float(az0), float(span), (float(lo), float(hi)), ppd)


def _max_elevation(cams, point: np.ndarray) -> float:
    """Largest elevation (degrees) of the camera seen from `point` over the first/middle/last frames."""
    best = -90.0
    for c in (cams[0], cams[len(cams) // 2], cams[-1]):
        d = np.asarray(c.position) - point
        best = max(best, math.degrees(math.atan2(d[1], max(math.hypot(d[0], d[2]), 1e-6))))
    return best


def _pick_kind(rng, indoor: bool) -> str:
    if indoor:
        return str(rng.choice(["furniture", "furniture", "furniture", "bush", "post", "figure", "crate", "block"]))
    return str(rng.choice(["tree", "tree", "tree", "bush", "bush", "rock", "rock", "post", "fence", "crate", "block",
                           "figure", "figure"]))


def _add_object(rng, groups, movers, desc, kind, base, cam0: Camera, light, ppm, plan: ShotPlan, indoor: bool,
                force: bool = False, min_height: float = 0.0):
    W, H = plan.spec.width, plan.spec.height
    cam_pos = np.asarray(cam0.position)
    radius = {"tree": 1.5, "bush": 0.9, "rock": 0.9, "post": 0.2, "fence": 3.0, "crate": 0.6, "block": 1.5,
              "figure": 0.3, "furniture": 1.0, "building": 12.0}.get(kind, 1.0)
    height = {"tree": 8.0, "bush": 1.5, "rock": 1.5, "post": 5.0, "fence": 1.5, "crate": 1.0, "block": 2.0,
              "figure": 1.9, "furniture": 2.0, "building": 25.0}.get(kind, 2.0)
    if not force and (_occludes(plan, base, radius, height, W, H) or
                      _too_prominent(plan, base, radius, height, kind == "figure")):
        return
    # never stand on top of the camera
    for c in (plan.path.cameras[0], plan.path.cameras[-1]):
        if math.hypot(base[0] - c.position[0], base[2] - c.position[2]) < radius + 0.4 and c.position[1] < height + 0.5:
            return
    cams = plan.path.cameras
    if kind == "tree":
        top = _max_elevation(cams, np.asarray(base) + np.array([0.0, 5.0, 0.0])) > 56.0
        layers, decals, name, h = sc.make_tree(rng, base, cam_pos, light, ppm, height=max(min_height, 0) or None,
                                               need_top=top)
        poses = [layers]
    elif kind in ("bush", "rock"):
        top = _max_elevation(cams, np.asarray(base) + np.array([0.0, 1.0, 0.0])) > 56.0
        layers, decals, name, h = sc.make_blob_object(rng, base, cam_pos, light, ppm, kind, need_top=top)
        poses = [layers]
    elif kind == "post":
        layers, decals, name, h = sc.make_post(rng, base, cam_pos, light, ppm)
        poses = [layers]
    elif kind == "fence":
        layers, decals, name, h = sc.make_fence(rng, base, cam_pos, light, ppm)
        poses = [layers]
    elif kind == "figure":
        top = _max_elevation(cams, np.asarray(base) + np.array([0.0, 1.5, 0.0])) > 52.0
        poses, st, decals = sc.make_figure(rng, base, cam_pos, light, min(ppm, 160.0), min(ppm * 1.2, 240.0),
                                           need_top=top)
        name, h = "person", st.height
    else:
        layers, decals, name, h = sc.make_box_object(rng, base, light, kind)
        poses = [layers]
    fade_h = 0.88 * h if kind == "figure" else h * 0.75
    groups.append(sc.Group(poses, np.asarray(base, float) + np.array([0.0, min(h, 3.0) * 0.5, 0.0]), decals, None,
                           False, kind, name, fade_point=np.asarray(base, float) + np.array([0.0, fade_h, 0.0])))
    desc["objects"].append(name)


# ---------------------------------------------------------------------------------------------
# Rendering

_RENDERERS: dict = {}


def renderer_for(width: int, height: int) -> Renderer:
    key = (width, height)
    r = _RENDERERS.get(key)
    if r is None:
        if len(_RENDERERS) > 8:
            _RENDERERS.clear()
        r = _RENDERERS[key] = Renderer(width, height)
    return r


def shot_rng(seed: int) -> np.random.Generator:
    """The generator a shot draws everything from (planning first, then the scene, then noise)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5C3])


def render_shot(spec: ShotSpec) -> RenderedShot:
    """Render a shot (deterministic for `spec.seed`)."""
    validate_spec(spec)
    if spec.reference_image is not None:
        from cinestudio.camerasim.still import render_still_shot
        return render_still_shot(spec)
    rng = shot_rng(spec.seed)
    plan = plan_shot(spec, rng)
    scene = assemble_scene(rng, plan)
    return render_planned(spec, rng, plan, scene)


def render_planned(spec: ShotSpec, rng: np.random.Generator, plan: ShotPlan, scene: sc.Scene) -> RenderedShot:
    """Render a shot already planned and assembled from `shot_rng(spec.seed)` (`rng` as those
    left it): the same frames as `render_shot(spec)`, without planning twice."""
    W, H = spec.width, spec.height
    r = renderer_for(W, H)
    frames = np.empty((spec.frames, H, W, 3), np.uint8)
    masks = np.empty((spec.frames, H, W), np.float32) if spec.want_masks else None
    sigma = scene.post.noise
    noise_field = (rng.standard_normal((H * 2, W * 2, 3), dtype=np.float32) * sigma) if sigma > 0 else None
    offs = rng.integers(0, [H, W], size=(spec.frames, 2))
    # shutter: the fraction of the frame interval the sensor is exposed (motion blur), 0 = none
    shutter = float(rng.uniform(0.15, 0.5)) if rng.random() < 0.6 else 0.0
    streaks = _blur_streaks(plan, W, H, shutter) if shutter > 0 else None
    per_frame = []
    for i, cam in enumerate(plan.path.cameras):
        noise = None
        if noise_field is not None:
            oy, ox = offs[i]
            noise = noise_field[oy:oy + H, ox:ox + W]
        img, mask = r.render(scene, cam, i, i / spec.fps, plan.path.subject_offsets[i], spec.want_masks, noise)
        if streaks is not None and streaks[i] is not None:
            img = cv2.filter2D(img, -1, streaks[i], borderType=cv2.BORDER_REFLECT)
        frames[i] = img
        if masks is not None:
            masks[i] = mask
        d = cam.to_dict(W, H)
        tgt = plan.target + plan.path.subject_offsets[i]
        depth = cam.depth_of(tgt)
        d["subject_depth"] = round(float(depth), 4)
        d["visible_height"] = round(float(cam.visible_height_at(max(depth, 1e-6), W, H)), 4)
        per_frame.append(d)
    params = _summary(plan, scene, per_frame)
    return RenderedShot(frames, per_frame, spec, params, masks)


def zoom_dolly_stand_ins(plan: ShotPlan) -> tuple[Camera, Camera]:
    """The last camera of a zoom and of a dolly that both frame the subject as `plan` ends: the
    zoom from the first camera's position with a longer or shorter lens, the dolly with the first
    camera's lens moved along the last camera's axis; both look the same way, all in focus."""
    cams = plan.path.cameras
    first, last = cams[0], cams[-1]
    target = plan.target + plan.path.subject_offsets[len(cams) - 1]
    depth = max(last.depth_of(target), 1e-3)
    zoom = last.replace(position=first.position)
    zoom_depth = max(zoom.depth_of(target), 1e-3)
    zoom = zoom.replace(focal_mm=last.focal_mm * zoom_depth / depth, focus_m=zoom_depth, f_number=64.0)
    dolly_depth = depth * first.focal_mm / last.focal_mm
    moved = np.asarray(last.position, float) + last.rotation()[2] * (depth - dolly_depth)
    dolly = last.replace(position=tuple(float(v) for v in moved), focal_mm=first.focal_mm, focus_m=dolly_depth,
                         f_number=64.0)
    return zoom, dolly


def move_contrast(spec: ShotSpec, plan: ShotPlan, scene: sc.Scene) -> float:
    """How much the shot's last frame differs from its first (mean absolute difference in grey
    levels, 0-255, without grain): about 0 when the move shows nothing — a camera that follows
    the top of a head from above, a pan across a blank wall."""
    cams, offsets = plan.path.cameras, plan.path.subject_offsets
    r = renderer_for(spec.width, spec.height)
    n = len(cams) - 1
    first = r.render(scene, cams[0], 0, 0.0, offsets[0])[0].astype(np.float32)
    last = r.render(scene, cams[n], n, n / spec.fps, offsets[n])[0].astype(np.float32)
    return float(np.abs(first - last).mean())


def picture_motion(spec: ShotSpec, plan: ShotPlan, scene: sc.Scene, gap: int = 2) -> float:
    """How fast the picture's dominant, textured part moves mid-clip, per frame, as a fraction of
    the frame width: the larger of the translation and half the scale change of a robust similarity
    fit to the dense optical flow between two frames `gap` apart, each pixel weighted by how
    textured it is. In a tracking shot it is what shows the camera travelling: where a sharp
    subject that stays put outweighs a soft background, it is ~0 and the shot looks like a still
    camera on someone moving."""
    cams, offsets = plan.path.cameras, plan.path.subject_offsets
    n = len(cams) - 1
    if n < 1:
        return 0.0
    gap = min(gap, n)
    a = max(0, (n - gap) // 2)
    r = renderer_for(spec.width, spec.height)
    grey = [cv2.cvtColor(r.render(scene, cams[i], i, i / spec.fps, offsets[i])[0], cv2.COLOR_RGB2GRAY)
            for i in (a, a + gap)]
    flow = cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, 0.5, 3, 9, 3, 5, 1.1, 0).astype(np.float64)
    h, w = grey[0].shape
    g = grey[0].astype(np.float32)
    weight = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)).ravel().astype(np.float64)
    weight = np.minimum(weight, np.percentile(weight, 90)) + 1e-3
    fit = _robust_similarity(flow / (w * gap), weight, h, w)
    return float(max(math.hypot(fit[0], fit[1]), 0.5 * abs(fit[2])))


def _robust_similarity(flow: np.ndarray, weight: np.ndarray, h: int, w: int, tol: float = 0.004) -> np.ndarray:
    """(dx, dy, scale rate, rotation) of the motion most of the weighted flow agrees with: the best
    of three starts (still, weighted least squares, median shift) by weighted inliers, refined by a
    few Tukey-weighted least-squares steps. Flow and results in frame widths."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    x, y = ((xx - (w - 1) / 2) / w).ravel(), ((yy - (h - 1) / 2) / w).ravel()
    one, zero = np.ones_like(x), np.zeros_like(x)
    design = np.concatenate([np.stack([one, zero, x, -y], 1), np.stack([zero, one, y, x], 1)])
    u, v = flow[..., 0].ravel(), flow[..., 1].ravel()
    uv = np.concatenate([u, v])

    def solve(wts: np.ndarray) -> np.ndarray:
        root = np.sqrt(np.concatenate([wts, wts]))
        return np.linalg.lstsq(design * root[:, None], uv * root, rcond=None)[0]

    def errors(fit: np.ndarray) -> np.ndarray:
        res = (uv - design @ fit).reshape(2, -1)
        return np.hypot(res[0], res[1])

    starts = [np.zeros(4), solve(weight), np.array([np.median(u), np.median(v), 0.0, 0.0])]
    fit = max(starts, key=lambda f: float((weight * (errors(f) < tol)).sum()))
    for _ in range(4):
        e = errors(fit)
        tukey = np.where(e < 2.5 * tol, (1 - (e / (2.5 * tol)) ** 2) ** 2, 0.0) * weight
        if tukey.sum() < 1e-9:
            break
        fit = solve(tukey)
    return fit


def zoom_dolly_contrast(spec: ShotSpec, plan: ShotPlan, scene: sc.Scene) -> float:
    """How differently the shot's last frame looks made by a zoom and by a dolly
    (`zoom_dolly_stand_ins`): mean absolute difference in grey levels (0-255), without grain.

    Where nothing in view lies at another depth than the subject (a face filling the frame, a
    flat floor seen from above, a blank sky behind) the two are the same picture, and a label
    that tells them apart is one no picture supports."""
    i = len(plan.path.cameras) - 1
    offset = plan.path.subject_offsets[i]
    r = renderer_for(spec.width, spec.height)
    zoom, dolly = (r.render(scene, cam, i, i / spec.fps, offset)[0].astype(np.float32)
                   for cam in zoom_dolly_stand_ins(plan))
    return float(np.abs(zoom - dolly).mean())


def _blur_streaks(plan: ShotPlan, W: int, H: int, shutter: float) -> list:
    """Per frame, a line kernel for the motion blur of the framed point's image motion (pans,
    tilts, handheld shake; zooms and dollies leave the centre still and get none)."""
    cams = plan.path.cameras
    n = len(cams)
    pts = []
    for i, cam in enumerate(cams):
        uv, z = cam.project(plan.target + plan.path.subject_offsets[i], W, H)
        pts.append(uv[0] if z[0] > 0.01 else None)
    out = []
    for i in range(n):
        a, b = pts[max(i - 1, 0)], pts[min(i + 1, n - 1)]
        if a is None or b is None or n < 2:
            out.append(None)
            continue
        span = (min(i + 1, n - 1) - max(i - 1, 0)) or 1
        d = (b - a) / span * shutter
        length = float(np.hypot(*d))
        if length < 1.0:
            out.append(None)
            continue
        k = int(math.ceil(length)) | 1
        kern = np.zeros((k, k), np.float32)
        c = (k - 1) / 2
        x0, y0 = c - d[0] / 2, c - d[1] / 2
        x1, y1 = c + d[0] / 2, c + d[1] / 2
        cv2.line(kern, (int(round(x0 * 16)), int(round(y0 * 16))), (int(round(x1 * 16)), int(round(y1 * 16))), 1.0, 1,
                 cv2.LINE_AA, 4)
        s = float(kern.sum())
        out.append(kern / s if s > 0 else None)
    return out


def _summary(plan: ShotPlan, scene: sc.Scene, per_frame: list) -> dict:
    st = scene.subject_style
    subj = None
    if plan.subject and st is not None:
        subj = {"height": round(plan.subject_height, 3), "position": [0.0, 0.0, 0.0],
                "target": [round(float(v), 4) for v in plan.target],
                "walks": plan.walk_dir is not None,
                "shirt": [round(float(v), 3) for v in st.shirt], "hair_style": st.hair_style,
                "glasses": st.glasses, "hat": st.hair_style == "hat"}
    out = {
        "start": per_frame[0], "end": per_frame[-1],
        "moves": [m.to_dict() for m in plan.path.moves if m.kind != "handheld"] +
                 [{"kind": "handheld", "amount": round(m.amount, 4)} for m in plan.path.moves if m.kind == "handheld"],
        "subject": subj,
        "subject_depth": round(float(per_frame[0]["subject_depth"]), 4),
        "subject_distance": round(float(np.linalg.norm(np.asarray(per_frame[0]["position"]) - plan.target)), 4),
        "scene": scene.description,
        "in_class": bool(plan.in_class),
    }
    if plan.spec.shake > 0:
        out["shake"] = round(float(plan.spec.shake), 4)
    if plan.rack is not None:
        out["rack_focus"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in plan.rack.items()}
    return out
