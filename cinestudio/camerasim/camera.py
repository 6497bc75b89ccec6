"""A pinhole camera, the class definitions it is labelled by, and camera paths over a clip.

Conventions (all angles in degrees, lengths in metres):

- World: X to the right (east), Y up, Z forward (north); the ground is the plane Y = 0.
- ``yaw`` is the heading: 0 looks along +Z, positive turns the camera to the RIGHT.
- ``pitch``: positive looks UP, negative looks down (-90 = straight down).
- ``roll``: positive rolls the camera CLOCKWISE as seen from behind it (so the picture content
  turns anticlockwise).
- Image coordinates are OpenCV's: x to the right, y down, origin at the top-left pixel centre.
- ``focal_mm`` is the focal length for a sensor ``sensor_mm`` (36 mm) wide; the sensor height
  follows the image's aspect ratio, so a square frame has equal horizontal and vertical fields.
- ``focus_m`` is the focus distance along the optical axis, ``f_number`` the aperture.

Label definitions used by the simulator (the classes of ``resources/taxonomy``):

- framing = the height of the slice of the world visible at the subject's depth
  (`FRAMING_VISIBLE_HEIGHT`, metres for a 1.75 m adult, scaled with the subject's height);
- angle = the camera's pitch (and roll for dutch, height for worm's-eye), `ANGLE_PITCH`;
- movement = the camera path (`camera_path`): rotations for pan/tilt/roll, translations for
  dolly/truck/pedestal/crane/arc, focal length for zoom, focus distance for rack focus.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

SENSOR_WIDTH_MM = 36.0
ADULT_HEIGHT_M = 1.75

#: Visible height (m) at the subject's depth for each framing, for a subject 1.75 m tall.
#: Ranges leave gaps between classes so that labels are unambiguous.
FRAMING_VISIBLE_HEIGHT: dict[str, tuple[float, float]] = {
    "extreme_close_up": (0.07, 0.15),
    "close_up": (0.26, 0.42),
    "medium_close_up": (0.50, 0.64),
    "medium_shot": (0.74, 1.05),
    "full_shot": (1.95, 2.45),
    "long_shot": (3.2, 9.0),
    "extreme_long_shot": (16.0, 90.0),
}

#: The point of the subject the camera frames, as a fraction of the subject's height.
FRAMING_TARGET_HEIGHT: dict[str, float] = {
    "extreme_close_up": 0.935,  # the eyes
    "close_up": 0.88,
    "medium_close_up": 0.82,
    "medium_shot": 0.74,
    "full_shot": 0.52,
    "long_shot": 0.5,
    "extreme_long_shot": 0.5,
}

#: Focal lengths (mm) tried first for each framing (others are tried if no camera fits).
FRAMING_FOCAL_MM: dict[str, tuple[float, float]] = {
    "extreme_close_up": (50.0, 200.0),
    "close_up": (35.0, 135.0),
    "medium_close_up": (30.0, 100.0),
    "medium_shot": (24.0, 85.0),
    "full_shot": (20.0, 70.0),
    "long_shot": (16.0, 50.0),
    "extreme_long_shot": (14.0, 50.0),
}

#: Where in the frame the framed point may sit (fraction of the half width / half height).
FRAMING_COMPOSITION: dict[str, tuple[float, float]] = {
    "extreme_close_up": (0.15, 0.08),
    "close_up": (0.3, 0.1),
    "medium_close_up": (0.35, 0.1),
    "medium_shot": (0.4, 0.12),
    "full_shot": (0.45, 0.05),
    "long_shot": (0.5, 0.45),
    "extreme_long_shot": (0.6, 0.6),
}


@dataclass(frozen=True)
class AngleSpec:
    pitch: tuple[float, float]
    roll: tuple[float, float] = (-2.0, 2.0)  # |roll| range; sign drawn at random for dutch
    height: tuple[float, float] | None = None  # allowed camera height (m), None = free
    signed_roll: bool = False


#: Pitch (and roll / height) ranges per angle class.
ANGLE_SPECS: dict[str, AngleSpec] = {
    "eye_level": AngleSpec(pitch=(-5.0, 5.0), height=(0.9, 2.6)),
    "high_angle": AngleSpec(pitch=(-55.0, -15.0)),
    "low_angle": AngleSpec(pitch=(15.0, 45.0)),
    "overhead": AngleSpec(pitch=(-90.0, -76.0)),
    "dutch_angle": AngleSpec(pitch=(-7.0, 7.0), roll=(14.0, 35.0), height=(0.5, 4.0), signed_roll=True),
    "worms_eye": AngleSpec(pitch=(50.0, 82.0)),
}
ANGLE_PITCH = {k: v.pitch for k, v in ANGLE_SPECS.items()}
#: Largest |roll| allowed for the angles that are not dutch (roll moves pass through level).
MAX_LEVEL_ROLL = 12.0

ROTATION_MOVES = {"pan_left", "pan_right", "tilt_up", "tilt_down", "roll_clockwise", "roll_anticlockwise"}
TRANSLATION_MOVES = {"dolly_in", "dolly_out", "truck_left", "truck_right", "pedestal_up", "pedestal_down",
                     "crane_up", "crane_down", "arc_left", "arc_right", "tracking"}
KNOWN_MOVES = ROTATION_MOVES | TRANSLATION_MOVES | {"static", "zoom_in", "zoom_out", "rack_focus", "handheld"}
#: Moves that scale the framed subject, and whose pictures only parallax tells apart (TAXONOMY.md):
#: a zoom and a dolly that frame the subject alike.
SCALE_MOVES = ("zoom_in", "zoom_out", "dolly_in", "dolly_out")


def _rad(a: float) -> float:
    return a * math.pi / 180.0


def _deg(a: float) -> float:
    return a * 180.0 / math.pi


def _cross(a, b) -> np.ndarray:
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def rotation_c2w(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Columns: the camera's right, up and forward axes in world coordinates."""
    y, p, r = _rad(yaw), _rad(pitch), _rad(roll)
    sy, cy, sp, cp, sr, cr = math.sin(y), math.cos(y), math.sin(p), math.cos(p), math.sin(r), math.cos(r)
    f = (sy * cp, sp, cy * cp)
    r0 = (cy, 0.0, -sy)
    u0 = (f[1] * r0[2] - f[2] * r0[1], f[2] * r0[0] - f[0] * r0[2], f[0] * r0[1] - f[1] * r0[0])
    return np.array([[r0[i] * cr - u0[i] * sr, u0[i] * cr + r0[i] * sr, f[i]] for i in range(3)])


def ypr_from_c2w(m: np.ndarray) -> tuple[float, float, float]:
    """Inverse of `rotation_c2w` (at straight up/down, roll is 0 and yaw carries the heading)."""
    right, f = m[:, 0], m[:, 2]
    pitch = _deg(math.asin(max(-1.0, min(1.0, float(f[1])))))
    if math.hypot(f[0], f[2]) < 1e-6:
        yaw = _deg(math.atan2(-right[2], right[0]))
        return yaw, pitch, 0.0
    yaw = _deg(math.atan2(f[0], f[2]))
    y = _rad(yaw)
    r0 = np.array([math.cos(y), 0.0, -math.sin(y)])
    u0 = _cross(f, r0)
    roll = _deg(math.atan2(-float(right @ u0), float(right @ r0)))
    return yaw, pitch, roll


def axis_rotation(axis: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotation matrix about `axis` (right-handed, world frame) by `angle_deg`."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    t = _rad(angle_deg)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)


def wrap_angle(a: float) -> float:
    return (a + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Camera:
    """A pinhole camera (see the module doc for the conventions)."""

    position: tuple[float, float, float]
    yaw: float
    pitch: float
    roll: float = 0.0
    focal_mm: float = 35.0
    focus_m: float = 10.0
    f_number: float = 8.0
    sensor_mm: float = SENSOR_WIDTH_MM

    # -- geometry -------------------------------------------------------------------------------
    def c2w(self) -> np.ndarray:
        """Camera-to-world rotation: columns right, up, forward (cached; do not modify)."""
        m = self.__dict__.get("_c2w")
        if m is None:
            m = rotation_c2w(self.yaw, self.pitch, self.roll)
            m.setflags(write=False)
            object.__setattr__(self, "_c2w", m)
        return m

    def rotation(self) -> np.ndarray:
        """World-to-camera rotation in OpenCV camera axes (x right, y down, z forward)."""
        m = self.c2w()
        return np.stack([m[:, 0], -m[:, 1], m[:, 2]], axis=0)

    @property
    def forward(self) -> np.ndarray:
        return self.c2w()[:, 2]

    @property
    def right(self) -> np.ndarray:
        return self.c2w()[:, 0]

    @property
    def up(self) -> np.ndarray:
        return self.c2w()[:, 1]

    @property
    def height(self) -> float:
        return float(self.position[1])

    def focal_px(self, width: int) -> float:
        return self.focal_mm / self.sensor_mm * width

    def intrinsics(self, width: int, height: int) -> np.ndarray:
        f = self.focal_px(width)
        return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])

    def fov(self, width: int, height: int) -> tuple[float, float]:
        """Horizontal and vertical fields of view in degrees."""
        f = self.focal_px(width)
        return 2 * _deg(math.atan(width / 2 / f)), 2 * _deg(math.atan(height / 2 / f))

    def sensor_height_mm(self, width: int, height: int) -> float:
        return self.sensor_mm * height / width

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) in camera coordinates (x right, y down, z forward)."""
        p = np.asarray(points, float).reshape(-1, 3) - np.asarray(self.position, float)
        return p @ self.rotation().T

    def project(self, points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and depths (N,) of world points (depth <= 0: behind)."""
        pc = self.to_camera(points)
        z = pc[:, 2]
        zs = np.where(np.abs(z) < 1e-9, 1e-9, z)
        k = self.intrinsics(width, height)
        uv = np.stack([k[0, 0] * pc[:, 0] / zs + k[0, 2], k[1, 1] * pc[:, 1] / zs + k[1, 2]], axis=1)
        return uv, z

    def depth_of(self, point) -> float:
        return float(self.to_camera(np.asarray(point, float))[0, 2])

    def visible_height_at(self, depth: float, width: int, height: int) -> float:
        """Height (m) of the slice of world visible at `depth` along the optical axis."""
        return depth * self.sensor_height_mm(width, height) / self.focal_mm

    def coc_px(self, depth, width: int):
        """Circle-of-confusion diameter in pixels for objects at `depth` (thin lens)."""
        aperture = self.focal_mm / 1000.0 / self.f_number
        d = np.maximum(np.asarray(depth, float), 1e-3)
        return aperture * self.focal_px(width) * np.abs(1.0 / max(self.focus_m, 1e-3) - 1.0 / d)

    # -- changes --------------------------------------------------------------------------------
    def with_c2w(self, m: np.ndarray, **kw) -> "Camera":
        yaw, pitch, roll = ypr_from_c2w(m)
        return replace(self, yaw=yaw, pitch=pitch, roll=roll, **kw)

    def moved(self, delta) -> "Camera":
        p = np.asarray(self.position, float) + np.asarray(delta, float)
        return replace(self, position=(float(p[0]), float(p[1]), float(p[2])))

    def replace(self, **kw) -> "Camera":
        return replace(self, **kw)

    def to_dict(self, width: int | None = None, height: int | None = None) -> dict:
        d = {"position": [round(float(v), 4) for v in self.position],
             "yaw": round(float(self.yaw), 3), "pitch": round(float(self.pitch), 3),
             "roll": round(float(self.roll), 3), "focal_mm": round(float(self.focal_mm), 3),
             "focus_m": round(float(self.focus_m), 4), "f_number": round(float(self.f_number), 3),
             "sensor_mm": self.sensor_mm}
        if width and height:
            h, v = self.fov(width, height)
            d["hfov"] = round(h, 3)
            d["vfov"] = round(v, 3)
        return d


# ---------------------------------------------------------------------------------------------
# Classification of a camera (used to check sampled paths stay inside their classes)

def framing_of_visible_height(visible_m: float, subject_height: float, keys) -> str | None:
    """The framing class whose range holds `visible_m`, for a subject of `subject_height`."""
    s = subject_height / ADULT_HEIGHT_M
    for key in keys:
        lo, hi = FRAMING_VISIBLE_HEIGHT[key]
        if lo * s <= visible_m <= hi * s:
            return key
    return None


def angle_ok(angle: str, cam: Camera) -> bool:
    spec = ANGLE_SPECS[angle]
    lo, hi = spec.pitch
    if not (lo - 1e-6 <= cam.pitch <= hi + 1e-6):
        return False
    if spec.signed_roll:
        rlo, rhi = spec.roll
        if not (rlo <= abs(cam.roll) <= rhi):
            return False
    elif angle != "overhead" and abs(cam.roll) > MAX_LEVEL_ROLL:
        return False
    if angle == "eye_level" and not (0.6 <= cam.height <= 3.0):
        return False  # level, and at about a person's height
    if angle == "worms_eye" and cam.height > 1.0:
        return False  # near the ground
    return True


# ---------------------------------------------------------------------------------------------
# Start camera for a framing and an angle

@dataclass
class Framed:
    """The camera that frames a subject, and how."""

    camera: Camera
    target: np.ndarray  # the framed point (world)
    subject_depth: float  # depth of the framed point along the optical axis
    visible_height: float  # metres visible at that depth
    composition: tuple[float, float]  # (mu, nu): target in frame, fractions of half width/height


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def frame_subject(rng: np.random.Generator, framing: str, angle: str, width: int, height: int, *,
                  subject_height: float = ADULT_HEIGHT_M, subject_base=(0.0, 0.0, 0.0),
                  yaw: float | None = None, bias: tuple[float, float] = (0.0, 0.0),
                  visible_range: tuple[float, float] | None = None,
                  tries: int = 400) -> Framed:
    """Sample a camera that frames the subject at `framing` from `angle`.

    `bias` shifts where the framed point sits in the frame (-1..1 of the half width/height:
    positive x = right of centre, positive y = above), e.g. so that a pan keeps the subject in view.
    `visible_range` narrows the framing's range of visible heights (so moves stay in class).
    """
    spec = ANGLE_SPECS[angle]
    s = subject_height / ADULT_HEIGHT_M
    vlo, vhi = visible_range or FRAMING_VISIBLE_HEIGHT[framing]
    vlo, vhi = vlo * s, vhi * s
    flo, fhi = FRAMING_FOCAL_MM[framing]
    mu_r, nu_r = FRAMING_COMPOSITION[framing]
    target_h = FRAMING_TARGET_HEIGHT[framing] * subject_height
    base = np.asarray(subject_base, float)
    eye_h = 0.935 * subject_height
    best = None
    for attempt in range(tries):
        relax = attempt / tries
        if relax > 0.5:  # widen the lens range when nothing fits
            flo2, fhi2 = max(10.0, flo * 0.5), min(600.0, fhi * 3.0)
        else:
            flo2, fhi2 = flo, fhi
        focal = _loguniform(rng, flo2, fhi2)
        pitch = float(rng.uniform(*spec.pitch))
        if spec.signed_roll:
            roll = float(rng.uniform(*spec.roll)) * (1 if rng.random() < 0.5 else -1)
        elif angle == "overhead":
            roll = 0.0
        else:
            roll = float(rng.uniform(*spec.roll))
        y = float(rng.uniform(-180, 180)) if yaw is None else yaw
        visible = _loguniform(rng, vlo, vhi)
        mu = float(np.clip(bias[0] + rng.uniform(-mu_r, mu_r) * (1 - abs(bias[0])), -0.85, 0.85))
        nu = float(np.clip(bias[1] + rng.uniform(-nu_r, nu_r) * (1 - abs(bias[1])), -0.85, 0.85))
        cam = Camera(position=(0.0, 0.0, 0.0), yaw=y, pitch=pitch, roll=roll, focal_mm=focal)
        sh = cam.sensor_height_mm(width, height)
        depth = visible * focal / sh
        hfov, vfov = cam.fov(width, height)
        xc = mu * depth * math.tan(_rad(hfov) / 2)
        yc_up = nu * depth * math.tan(_rad(vfov) / 2)
        target = base + np.array([0.0, target_h, 0.0])
        m = cam.c2w()
        pos = target - m @ np.array([xc, yc_up, depth])
        ch = float(pos[1])
        ok = ch >= 0.12
        if spec.height is not None:
            lo, hi = spec.height
            if framing in ("extreme_close_up", "close_up", "medium_close_up", "medium_shot", "full_shot"):
                lo, hi = min(lo, eye_h * 0.55), max(min(hi, eye_h * 1.35), lo + 0.2)
            ok = ok and lo <= ch <= hi
        if angle == "worms_eye":
            ok = ok and ch <= max(0.7, 0.5 * target_h)
        if angle == "high_angle":
            ok = ok and ch > target_h
        if angle == "low_angle":
            ok = ok and ch < target_h
        ok = ok and ch <= 250.0
        framed = Framed(cam.replace(position=tuple(float(v) for v in pos)), target, depth, visible, (mu, nu))
        if ok:
            return framed
        # remember the least-bad candidate (camera below ground is the usual failure)
        score = -abs(min(ch - 0.12, 0.0))
        if best is None or score > best[0]:
            best = (score, framed)
    framed = best[1]
    cam = framed.camera
    if cam.height < 0.12:
        cam = cam.moved((0.0, 0.12 - cam.height, 0.0))
    return Framed(cam, framed.target, framed.subject_depth, framed.visible_height, framed.composition)


# ---------------------------------------------------------------------------------------------
# Camera paths

def ease(kind: str, s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    if kind == "smooth":
        return s * s * (3 - 2 * s)
    if kind == "in":
        return s * s
    if kind == "out":
        return 1 - (1 - s) ** 2
    return s


@dataclass
class PathContext:
    """What a camera path needs to know about the shot it belongs to."""

    width: int
    height: int
    target: np.ndarray  # the framed point (world); arcs orbit it, cranes keep it framed
    subject_depth: float
    rack_depths: tuple[float, float] | None = None  # (from, to) focus distances for rack_focus
    framing: str | None = None
    angle: str | None = None
    subject_height: float = ADULT_HEIGHT_M
    framing_keys: tuple[str, ...] = ()
    fps: float = 8.0


#: How far a hand-held camera drifts (metres per unit of the wobble's amount) as it turns: the drift
#: moves near things against far ones (parallax). At 1 cm a steady hand (amount 0.15-0.5) moved a
#: medium shot's subject 0.1-0.5 px against the background at 64 px, under a third of what a
#: hand-held dolly past a real near object shows, and real shaky dollies read as tracking; at 4 cm
#: it is 1.2-2 px (CameraCLIP runs: 4-5 of the 126 shaky real moves called tracking, against 7-15 at
#: 2 cm and 9-14 at 1 cm).
HANDHELD_SHIFT_M = 0.04

#: A hand's drift is measured against the subject's size: below this visible height at the subject
#: (a close-up's; extreme close-ups see 0.07-0.14 m), the drift shrinks in proportion. Four
#: centimetres across a 10 cm slice of face jumped the picture by a fifth of the frame between
#: sampled frames, hiding the move itself: hand-held extreme close-ups were 62 % wrong in the
#: CameraCLIP runs, against 14-33 % for every other framing, steady or not.
HANDHELD_SHIFT_REF_HEIGHT_M = 0.35

#: Per scaling move, the range of (ratio - 1): a dolly's is the subject's growth, a zoom's the whole
#: picture's. A dolly's background grows less than its subject, so with one range a zoom was always
#: the faster picture (whole-frame log-scale over 8 sampled frames: zooms ≥ 0.22, dollies 0.04–0.39)
#: and speed alone told them apart — a slow real zoom then read as a dolly. Zooms reach lower, so
#: only parallax tells them apart.
SCALE_RATIO_RANGE = {"zoom": (0.1, 0.6), "dolly": (0.25, 0.6)}


def scale_ratio(rng: np.random.Generator, kind: str, strength: float = 1.0) -> float:
    """Draw the ratio of a zoom or dolly (`kind` like ``zoom_in``)."""
    lo, hi = SCALE_RATIO_RANGE[kind.split("_")[0]]
    return 1.0 + float(rng.uniform(lo, hi)) * strength


@dataclass
class MoveParams:
    """The sampled parameters of one movement (recorded in labels)."""

    kind: str
    amount: float  # degrees for rotations/arcs, metres for translations, ratio for zoom/dolly
    easing: str = "linear"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "amount": round(float(self.amount), 4), "easing": self.easing}
        d.update({k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in self.extra.items()})
        return d


@dataclass
class CameraPath:
    cameras: list[Camera]
    subject_offsets: np.ndarray  # (F, 3) displacement of the subject (tracking), metres
    moves: list[MoveParams]
    subject_heading: float | None = None  # walking direction (deg, yaw convention) if it walks


def sample_move(rng: np.random.Generator, kind: str, cam: Camera, ctx: PathContext,
                strength: float = 1.0) -> MoveParams:
    """Draw the amount of one movement so that it reads clearly in a short clip."""
    hfov, vfov = cam.fov(ctx.width, ctx.height)
    easing = str(rng.choice(["linear", "smooth", "smooth", "in", "out"]))
    k = float(rng.uniform(0.22, 0.6)) * strength
    depth = max(ctx.subject_depth, 0.05)
    vis_h = cam.visible_height_at(depth, ctx.width, ctx.height)
    vis_w = vis_h * ctx.width / ctx.height
    if kind in ("pan_left", "pan_right"):
        return MoveParams(kind, k * hfov, easing)
    if kind in ("tilt_up", "tilt_down"):
        return MoveParams(kind, k * vfov, easing)
    if kind in ("roll_clockwise", "roll_anticlockwise"):
        return MoveParams(kind, float(rng.uniform(10.0, 22.0)) * strength, easing)
    if kind in SCALE_MOVES:
        return MoveParams(kind, scale_ratio(rng, kind, strength), easing)
    if kind in ("truck_left", "truck_right"):
        return MoveParams(kind, k * vis_w, easing)
    if kind in ("pedestal_up", "pedestal_down"):
        return MoveParams(kind, k * vis_h, easing)
    if kind in ("crane_up", "crane_down"):
        return MoveParams(kind, float(rng.uniform(0.35, 0.8)) * strength * max(depth, 0.5), easing,
                          {"back": float(rng.uniform(-0.2, 0.3))})
    if kind in ("arc_left", "arc_right"):
        return MoveParams(kind, float(rng.uniform(15.0, 40.0)) * strength, easing)
    if kind == "tracking":
        lateral = bool(rng.random() < 0.75)
        direction = 1.0 if rng.random() < 0.5 else -1.0
        dist = float(rng.uniform(0.35, 1.0)) * strength * (vis_w if lateral else max(depth, 1.0) * 0.6)
        return MoveParams(kind, dist, "linear", {"lateral": lateral, "direction": direction})
    if kind == "handheld":
        amp = float(rng.uniform(0.6, 1.6)) * strength
        phases = rng.uniform(0, 2 * math.pi, size=12).tolist()
        freqs = rng.uniform(0.5, 2.5, size=12).tolist()
        return MoveParams(kind, amp, "linear", {"phases": phases, "freqs": freqs})
    if kind == "rack_focus":
        return MoveParams(kind, 1.0, str(rng.choice(["smooth", "smooth", "linear"])),
                          {"t0": float(rng.uniform(0.1, 0.3)), "t1": float(rng.uniform(0.65, 0.9))})
    return MoveParams("static", 0.0, "linear")


def apply_move(cam: Camera, mv: MoveParams, s: float, ctx: PathContext) -> tuple[Camera, np.ndarray]:
    """The camera after fraction `s` (already eased) of move `mv`, and the subject displacement."""
    zero = np.zeros(3)
    k = mv.kind
    m = cam.c2w()
    if k in ("pan_left", "pan_right"):
        sign = -1.0 if k == "pan_left" else 1.0
        return cam.with_c2w(_pan_rotation(sign * mv.amount * s, m, cam)), zero
    if k in ("tilt_up", "tilt_down"):
        sign = 1.0 if k == "tilt_up" else -1.0
        # a positive right-handed turn about the right axis tips the view DOWN
        rot = axis_rotation(m[:, 0], -sign * mv.amount * s)
        return cam.with_c2w(rot @ m), zero
    if k in ("roll_clockwise", "roll_anticlockwise"):
        sign = 1.0 if k == "roll_clockwise" else -1.0
        rot = axis_rotation(m[:, 2], -sign * mv.amount * s)
        return cam.with_c2w(rot @ m), zero
    if k in ("zoom_in", "zoom_out"):
        ratio = mv.amount ** s if k == "zoom_in" else mv.amount ** (-s)
        return cam.replace(focal_mm=cam.focal_mm * ratio), zero
    if k in ("dolly_in", "dolly_out"):
        d0 = ctx.subject_depth
        d1 = d0 / mv.amount ** s if k == "dolly_in" else d0 * mv.amount ** s
        moved = cam.moved(m[:, 2] * (d0 - d1))
        return moved.replace(focus_m=max(0.05, cam.focus_m - (d0 - d1))), zero
    if k in ("truck_left", "truck_right"):
        sign = 1.0 if k == "truck_right" else -1.0
        right = horizontal_right(cam)
        return cam.moved(right * sign * mv.amount * s), zero
    if k in ("pedestal_up", "pedestal_down"):
        sign = 1.0 if k == "pedestal_up" else -1.0
        up = np.array([0.0, 1.0, 0.0]) if abs(cam.pitch) <= 60 else m[:, 1]
        return cam.moved(up * sign * mv.amount * s), zero
    if k in ("crane_up", "crane_down"):
        sign = 1.0 if k == "crane_up" else -1.0
        back = -_horizontal_forward(cam) * mv.extra.get("back", 0.0) * mv.amount * s
        new = cam.moved(np.array([0.0, sign * mv.amount * s, 0.0]) + back)
        # re-aim so the framed point keeps its place in frame (a crane tilts as it rises)
        if abs(cam.pitch) < 75:
            t = np.asarray(ctx.target, float)
            def elev(c):
                d = t - np.asarray(c.position, float)
                return _deg(math.atan2(d[1], math.hypot(d[0], d[2])))
            dp = elev(new) - elev(cam)
            rot = axis_rotation(m[:, 0], -dp)
            new = new.with_c2w(rot @ m)
        return new, zero
    if k in ("arc_left", "arc_right"):
        sign = 1.0 if k == "arc_left" else -1.0
        angle = sign * mv.amount * s
        rot = _yaw_matrix(angle)
        t = np.asarray(ctx.target, float)
        t_h = np.array([t[0], 0.0, t[2]])
        p = np.asarray(cam.position, float)
        newp = t_h + rot @ (p - t_h)
        return cam.with_c2w(rot @ m).replace(position=tuple(float(v) for v in newp)), zero
    if k == "tracking":
        if mv.extra.get("lateral", True):
            d = horizontal_right(cam) * mv.extra.get("direction", 1.0)
        else:
            d = _horizontal_forward(cam) * mv.extra.get("direction", 1.0)
        delta = d * mv.amount * s
        return cam.moved(delta), delta
    if k == "handheld":
        ph, fr = mv.extra["phases"], mv.extra["freqs"]
        seconds = s * mv.extra.get("duration", 2.0)

        def wob(i):
            return (math.sin(2 * math.pi * fr[i] * seconds + ph[i])
                    + 0.5 * math.sin(2 * math.pi * fr[i + 6] * 2.3 * seconds + ph[i + 6]) - (
                        math.sin(ph[i]) + 0.5 * math.sin(ph[i + 6]))) / 1.5
        hfov, _ = cam.fov(ctx.width, ctx.height)
        a = mv.amount * hfov / 40.0 * 0.9  # degrees, relative to the field of view
        rot = axis_rotation(m[:, 1], a * wob(0)) @ axis_rotation(m[:, 0], a * 0.8 * wob(1)) @ \
            axis_rotation(m[:, 2], a * 0.5 * wob(2))
        visible = cam.visible_height_at(ctx.subject_depth, ctx.width, ctx.height)
        drift = HANDHELD_SHIFT_M * mv.amount * min(1.0, visible / HANDHELD_SHIFT_REF_HEIGHT_M)
        shift = (m[:, 0] * wob(3) + m[:, 1] * wob(4) + m[:, 2] * wob(5)) * drift
        return cam.with_c2w(rot @ m).moved(shift), zero
    if k == "rack_focus" and ctx.rack_depths is not None:
        a, b = ctx.rack_depths
        t0, t1 = mv.extra.get("t0", 0.2), mv.extra.get("t1", 0.8)
        u = float(ease(mv.easing, np.array((s - t0) / max(t1 - t0, 1e-6))))
        # interpolate in dioptres (how a focus pull reads)
        inv = (1 - u) / a + u / b
        return cam.replace(focus_m=1.0 / inv), zero
    return cam, zero


def _yaw_matrix(angle_deg: float) -> np.ndarray:
    """Rotation about world +Y that turns a heading right by `angle_deg` (yaw += angle)."""
    t = _rad(angle_deg)
    return np.array([[math.cos(t), 0.0, math.sin(t)], [0.0, 1.0, 0.0], [-math.sin(t), 0.0, math.cos(t)]])


def _pan_rotation(angle: float, m: np.ndarray, cam: Camera) -> np.ndarray:
    """Pan by `angle` (positive = turn right): about world vertical for ordinary pitches, about
    the camera's up axis when it looks nearly straight up or down (so content still slides
    sideways instead of turning)."""
    if abs(cam.pitch) <= 60:
        return _yaw_matrix(angle) @ m
    # a positive right-handed turn about the up axis swings the view to the RIGHT
    return axis_rotation(m[:, 1], angle) @ m


def horizontal_right(cam: Camera) -> np.ndarray:
    """The camera's right, level with the ground (its own right when it looks steeply down or up)."""
    m = cam.c2w()
    r = m[:, 0].copy()
    if abs(cam.pitch) > 60:
        return r / np.linalg.norm(r)
    r[1] = 0.0
    n = np.linalg.norm(r)
    return r / n if n > 1e-6 else m[:, 0]


def _horizontal_forward(cam: Camera) -> np.ndarray:
    f = cam.c2w()[:, 2].copy()
    f[1] = 0.0
    n = np.linalg.norm(f)
    if n < 1e-6:
        u = cam.c2w()[:, 1].copy()
        u[1] = 0.0
        return u / max(np.linalg.norm(u), 1e-9)
    return f / n


def segment_progress(frames: int, n_moves: int, delay: tuple[float, float] = (0.0, 1.0)) -> list[np.ndarray]:
    """Per move, its raw (uneased) progress 0..1 at each frame when moves run one after another."""
    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)
    t = np.clip((t - delay[0]) / max(delay[1] - delay[0], 1e-6), 0.0, 1.0)
    out = []
    for i in range(n_moves):
        lo, hi = i / n_moves, (i + 1) / n_moves
        out.append(np.clip((t - lo) / (hi - lo), 0.0, 1.0))
    return out


def camera_path(start: Camera, moves: list[MoveParams], frames: int, ctx: PathContext,
                delay: tuple[float, float] = (0.0, 1.0)) -> CameraPath:
    """Apply `moves` one after another over `frames` frames, starting from `start`."""
    progress = segment_progress(frames, max(len(moves), 1), delay)
    cams: list[Camera] = []
    offsets = np.zeros((frames, 3))
    for f in range(frames):
        cam = start
        offset = np.zeros(3)
        seg_ctx = ctx
        for i, mv in enumerate(moves):
            s = float(progress[i][f])
            if s <= 0.0:
                break
            se = s if mv.kind in ("rack_focus", "handheld", "tracking") else float(ease(mv.easing, np.array(s)))
            if mv.kind == "handheld":
                mv.extra.setdefault("duration", frames / max(ctx.fps, 1e-6))
            cam, d = apply_move(cam, mv, se, seg_ctx)
            offset = offset + d
            if s < 1.0:
                break
            # the next move starts where this one ended: update what it needs
            seg_ctx = PathContext(**{**seg_ctx.__dict__})
            seg_ctx.target = np.asarray(seg_ctx.target, float) + d
            seg_ctx.subject_depth = max(0.05, cam.depth_of(seg_ctx.target))
        cams.append(cam)
        offsets[f] = offset
    heading = None
    for mv in moves:
        if mv.kind == "tracking":
            d = (horizontal_right(start) if mv.extra.get("lateral", True) else _horizontal_forward(start))
            d = d * mv.extra.get("direction", 1.0)
            heading = _deg(math.atan2(d[0], d[2]))
    return CameraPath(cams, offsets, list(moves), heading)
