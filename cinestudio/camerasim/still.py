"""Camera moves over a still image (previz from a reference picture).

The picture is treated as a flat plane in front of a virtual camera; the camera path is the same
as for 3-D shots (`cinestudio.camerasim.camera.camera_path`), so a pan turns the camera (the
picture slides the opposite way), a zoom scales about the centre, a roll turns the picture, a
truck or pedestal slides it, a dolly scales it, a rack focus moves a depth-of-field band across it
(the bottom of the picture is taken as near, the top as far). The frame's corners are cast onto
the plane for every frame and the picture is warped with that homography; the picture is scaled
so that every frame stays inside it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from cinestudio.camerasim.camera import Camera, PathContext, camera_path, sample_move
from cinestudio.errors import UserInputError

PLANE_DISTANCE = 5.0
#: Extra magnification of the base view per framing (closer framings crop tighter).
FRAMING_ZOOM = {"extreme_long_shot": 1.0, "long_shot": 1.0, "full_shot": 1.1, "medium_shot": 1.3,
                "medium_close_up": 1.5, "close_up": 1.8, "extreme_close_up": 2.6}


def _as_rgb(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise UserInputError("reference_image", f"expected an (H, W, 3) RGB image, got shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        a = arr.astype(np.float32)
        if a.max() <= 1.0:
            a = a * 255.0
        arr = np.clip(a + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def render_still_shot(spec):
    """Render `spec` (a ShotSpec with `reference_image`) as a planar camera move over the image."""
    from cinestudio.camerasim.shot import RenderedShot

    src = _as_rgb(spec.reference_image)
    W, H = spec.width, spec.height
    rng = np.random.default_rng([int(spec.seed) & 0xFFFFFFFF, 0x571])
    base_focal = 36.0 / (2 * math.tan(math.radians(25.0)))
    focal = base_focal * FRAMING_ZOOM.get(spec.framing, 1.0)
    roll = 0.0
    pitch = 0.0
    if spec.angle == "dutch_angle":
        roll = float(rng.uniform(14, 25)) * (1 if rng.random() < 0.5 else -1)
    cam = Camera((0.0, 0.0, 0.0), 0.0, pitch, roll, focal, focus_m=PLANE_DISTANCE, f_number=8.0)
    target = np.array([0.0, 0.0, PLANE_DISTANCE])
    ctx = PathContext(W, H, target, PLANE_DISTANCE, rack_depths=None, fps=spec.fps)
    moves = list(spec.movements) or ["static"]
    rack = None
    if "rack_focus" in moves:
        near, far = 2.0, 20.0
        a, b = (near, far) if rng.random() < 0.5 else (far, near)
        ctx.rack_depths = (a, b)
        blur = 0.06 * W
        f_px = cam.focal_px(W)
        aperture = blur / (f_px * abs(1 / near - 1 / far))
        cam = cam.replace(focus_m=a, f_number=cam.focal_mm / 1000.0 / aperture)
        rack = {"from": a, "to": b, "near": near, "far": far}
    mvs = [sample_move(rng, m, cam, ctx, spec.strength) for m in moves]
    path = camera_path(cam, mvs, spec.frames, ctx)
    # cast each frame's corners onto the picture plane (plane units: metres at z = PLANE_DISTANCE)
    corners_px = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], np.float64)
    plane_pts = []
    for c in path.cameras:
        m = c.c2w()
        f = c.focal_px(W)
        x = (corners_px[:, 0] - (W - 1) / 2) / f
        y = -(corners_px[:, 1] - (H - 1) / 2) / f
        d = (m[:, 0][None] * x[:, None] + m[:, 1][None] * y[:, None] + m[:, 2][None])
        pos = np.asarray(c.position)
        lam = (PLANE_DISTANCE - pos[2]) / np.where(np.abs(d[:, 2]) < 1e-9, 1e-9, d[:, 2])
        p = pos[None, :2] + lam[:, None] * d[:, :2]
        plane_pts.append(p)
    allp = np.concatenate(plane_pts)
    x0, y0 = allp.min(axis=0)
    x1, y1 = allp.max(axis=0)
    hi, wi = src.shape[:2]
    s = min(wi / max(x1 - x0, 1e-9), hi / max(y1 - y0, 1e-9))
    cxp, cyp = (x0 + x1) / 2, (y0 + y1) / 2
    frames = np.empty((spec.frames, H, W, 3), np.uint8)
    per_frame = []
    for i, (c, p) in enumerate(zip(path.cameras, plane_pts)):
        srcpts = np.stack([(wi - 1) / 2 + (p[:, 0] - cxp) * s, (hi - 1) / 2 - (p[:, 1] - cyp) * s], 1)
        M = cv2.getPerspectiveTransform(corners_px.astype(np.float32), srcpts.astype(np.float32))
        img = cv2.warpPerspective(src, M, (W, H), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP
                                  if s * (x1 - x0) > 2 * W else cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REFLECT)
        if rack is not None:
            img = _depth_blur(img, c, W, rack)
        frames[i] = img
        d = c.to_dict(W, H)
        d["subject_depth"] = PLANE_DISTANCE
        d["visible_height"] = round(float(c.visible_height_at(PLANE_DISTANCE, W, H)), 4)
        per_frame.append(d)
    params = {"start": per_frame[0], "end": per_frame[-1], "moves": [m.to_dict() for m in mvs
                                                                     if m.kind != "handheld"],
              "subject": None, "subject_depth": PLANE_DISTANCE, "subject_distance": PLANE_DISTANCE,
              "scene": {"environment": "reference_image"}, "reference_image": True}
    if rack is not None:
        params["rack_focus"] = rack
    return RenderedShot(frames, per_frame, spec, params, None)


def _depth_blur(img: np.ndarray, cam: Camera, W: int, rack: dict) -> np.ndarray:
    """Blur by a depth taken from the row: bottom = near, top = far (linear in dioptres)."""
    H = img.shape[0]
    rows = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
    inv = (1 / rack["far"]) * (1 - rows) + (1 / rack["near"]) * rows
    aperture = cam.focal_mm / 1000.0 / cam.f_number
    coc = aperture * cam.focal_px(W) * np.abs(1 / cam.focus_m - inv)
    sig = np.broadcast_to(coc / 2.5, (H, W))
    f = img.astype(np.float32)
    levels = [0.0, 1.0, 2.0, 4.0, 8.0]
    blurred = [f] + [cv2.GaussianBlur(f, (0, 0), lv) for lv in levels[1:]]
    out = np.zeros_like(f)
    total = np.zeros((H, W, 1), np.float32)
    for lv, b in zip(levels, blurred):
        w = np.clip(1.0 - np.abs(sig - lv) / max(lv * 0.5, 1.0), 0, 1)[..., None]
        out += b * w
        total += w
    return np.clip(out / np.maximum(total, 1e-6) + 0.5, 0, 255).astype(np.uint8)
