"""Does a rendered shot move the way the board says? The optical-flow verdict against the intent.

`measure(frames, fps)` runs the classical global-motion estimator (`media.motion.classify_motion`)
on a clip; `agrees(intended, measured)` compares: a dolly and a zoom enlarge the picture alike and
a truck slides it like a pan, so those count as the same family here (parallax is too weak a
cue on short clips to split them reliably); moves the estimator cannot see (tracking, rack
focus, handheld, arcs, cranes) are not judged (None).
"""

from __future__ import annotations

from typing import Any

import numpy as np

FAMILIES = {
    "static": "static",
    "pan_left": "left", "truck_left": "left",
    "pan_right": "right", "truck_right": "right",
    "tilt_up": "up", "pedestal_up": "up",
    "tilt_down": "down", "pedestal_down": "down",
    "zoom_in": "in", "dolly_in": "in",
    "zoom_out": "out", "dolly_out": "out",
    "roll_clockwise": "cw", "roll_anticlockwise": "ccw",
}


def measure(frames: np.ndarray, fps: float) -> dict[str, Any]:
    from cinestudio.media.motion import classify_motion

    if len(frames) < 3:
        return {"dominant": [], "segments": []}
    report = classify_motion(frames, fps=fps, min_segment=max(3, int(round(fps / 4))))
    segs = [{"start": int(s["start"]), "end": int(s["end"]), "movement": s["movement"],
             "components": list(s.get("components", [s["movement"]]))} for s in report.segments]
    return {"dominant": list(report.dominant), "segments": segs}


def agrees(intended: list[str], measured: dict[str, Any]) -> bool | None:
    """True when every judgeable intended move shows in the measurement (and nothing moves in a
    static shot); None when no intended move can be judged by optical flow."""
    fams = [FAMILIES.get(m) for m in intended]
    if not fams or any(f is None for f in fams):
        return None
    seen = set()
    for key in measured.get("dominant", []):
        if key in FAMILIES:
            seen.add(FAMILIES[key])
    for seg in measured.get("segments", []):
        for key in seg.get("components", []):
            if key in FAMILIES:
                seen.add(FAMILIES[key])
    if fams == ["static"]:
        return seen <= {"static"}
    return all(f in seen for f in fams)
