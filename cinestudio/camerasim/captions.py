"""Natural-language captions for simulated clips, with varied wording.

A caption names the framing, the angle and the movement (each in one of several phrasings),
and describes what is in the shot (the subject's clothes, the setting, the time of day), in one
of several sentence shapes, chosen by the clip's own random generator (so captions are
deterministic for a seed).
"""

from __future__ import annotations

import colorsys

import numpy as np

FRAMING_PHRASES = {
    "extreme_long_shot": ["an extreme long shot", "a very wide establishing shot", "an extreme wide shot"],
    "long_shot": ["a long shot", "a wide shot", "a full-length wide shot"],
    "full_shot": ["a full shot", "a head-to-toe shot", "a full-figure shot"],
    "medium_shot": ["a medium shot", "a waist-up shot", "a mid shot"],
    "medium_close_up": ["a medium close-up", "a chest-up shot", "a medium close shot"],
    "close_up": ["a close-up", "a close shot of the face", "a head-and-shoulders close-up"],
    "extreme_close_up": ["an extreme close-up", "a tight detail shot of the eyes", "a very close shot of the face"],
}
ANGLE_PHRASES = {
    "eye_level": ["at eye level", "from eye level", "with the camera level with the subject"],
    "high_angle": ["from a high angle", "looking down from above", "from a raised viewpoint looking down"],
    "low_angle": ["from a low angle", "looking up from below", "from a low viewpoint looking up"],
    "overhead": ["from directly overhead", "as a bird's-eye view", "looking straight down from above"],
    "dutch_angle": ["at a dutch angle", "with a canted, tilted frame", "with the horizon tilted"],
    "worms_eye": ["from a worm's-eye view", "from ground level looking steeply up", "from the ground looking up"],
}
MOVE_PHRASES = {
    "static": ["the camera holds still", "the camera does not move", "a locked-off static shot"],
    "pan_left": ["the camera pans left", "the camera turns to the left", "a pan to the left"],
    "pan_right": ["the camera pans right", "the camera turns to the right", "a pan to the right"],
    "tilt_up": ["the camera tilts up", "the camera tilts upward", "a tilt up"],
    "tilt_down": ["the camera tilts down", "the camera tilts downward", "a tilt down"],
    "dolly_in": ["the camera dollies in", "the camera moves in closer", "a dolly in toward the subject"],
    "dolly_out": ["the camera dollies out", "the camera pulls back", "a dolly out away from the subject"],
    "zoom_in": ["the camera zooms in", "the lens zooms in", "a zoom in"],
    "zoom_out": ["the camera zooms out", "the lens zooms out", "a zoom out"],
    "tracking": ["the camera tracks the moving subject", "the camera follows the subject as they walk",
                 "a tracking shot following the subject"],
    "rack_focus": ["the focus racks between near and far", "a rack focus shifts the focus",
                   "the focus pulls from one depth to another"],
    "truck_left": ["the camera trucks left", "the camera slides to the left", "a lateral move to the left"],
    "truck_right": ["the camera trucks right", "the camera slides to the right", "a lateral move to the right"],
    "pedestal_up": ["the camera pedestals up", "the camera rises straight up", "a pedestal move up"],
    "pedestal_down": ["the camera pedestals down", "the camera lowers straight down", "a pedestal move down"],
    "roll_clockwise": ["the camera rolls clockwise", "the frame rotates as the camera rolls clockwise",
                       "a clockwise roll"],
    "roll_anticlockwise": ["the camera rolls anticlockwise", "the camera rolls counter-clockwise",
                           "an anticlockwise roll"],
    "arc_left": ["the camera arcs left around the subject", "the camera orbits to the left", "an arc shot to the left"],
    "arc_right": ["the camera arcs right around the subject", "the camera orbits to the right",
                  "an arc shot to the right"],
    "crane_up": ["the camera cranes up", "a crane shot rising up", "the camera booms up"],
    "crane_down": ["the camera cranes down", "a crane shot descending", "the camera booms down"],
    "handheld": ["a shaky handheld camera", "the handheld camera wobbles", "a handheld shot"],
}
SETTINGS = {
    "grass": ["in a grassy field", "on a green meadow", "on a lawn"],
    "dry_grass": ["in a dry field", "on a yellow prairie", "in dry grassland"],
    "dirt": ["on a dirt plain", "on bare earth", "on a dusty field"],
    "sand": ["on a sandy beach", "in the desert sand", "on sand dunes"],
    "snow": ["in a snowy landscape", "on a snowfield", "in the snow"],
    "asphalt": ["on an asphalt road", "in a parking lot", "on a paved street"],
    "plaza": ["on a tiled plaza", "in a paved square", "on a stone courtyard"],
    "farmland": ["in farmland", "among crop rows", "on a ploughed field"],
    "gravel": ["on gravel", "on a gravel yard", "on a stony path"],
    "wood": ["in a room with a wooden floor", "indoors on wooden floorboards", "in a wood-floored room"],
    "tiles": ["in a tiled room", "indoors on a checkered floor", "in a room with a tiled floor"],
    "carpet": ["in a carpeted room", "indoors on a carpet", "in a room with carpet"],
    "concrete": ["in a concrete hall", "in a bare concrete room", "indoors on a concrete floor"],
}
TIMES = {
    "day": ["in daylight", "on a sunny day", "at midday"],
    "morning": ["in the morning", "in soft morning light", "in the early light"],
    "golden": ["at golden hour", "at sunset", "in warm evening light"],
    "dusk": ["at dusk", "at twilight", "after sunset"],
    "overcast": ["on an overcast day", "under a grey sky", "on a cloudy day"],
    "night": ["at night", "in the dark of night", "at nighttime"],
}
COLOURS = [("red", 0.0), ("orange", 0.08), ("yellow", 0.15), ("green", 0.33), ("teal", 0.47), ("blue", 0.6),
           ("purple", 0.75), ("pink", 0.9), ("red", 1.0)]
GARMENTS = ["shirt", "top", "jacket", "sweater"]


def colour_name(rgb) -> str:
    h, s, v = colorsys.rgb_to_hsv(*[float(c) for c in rgb])
    if v < 0.2:
        return "black"
    if s < 0.18:
        return "white" if v > 0.8 else "grey"
    return min(COLOURS, key=lambda c: abs(c[1] - h))[0]


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _phrase(rng, table: dict, key: str, fallback: str) -> str:
    options = table.get(key)
    return _pick(rng, options) if options else fallback


def caption(rng: np.random.Generator, framing: str, angle: str, movements: list[str], params: dict,
            labels: dict | None = None) -> str:
    """A one-sentence description of the shot. `labels` maps keys to human labels for classes the
    phrase banks do not know (custom schemes)."""
    labels = labels or {}
    fr = _phrase(rng, FRAMING_PHRASES, framing, "a " + labels.get(framing, framing.replace("_", " ")).lower())
    an = _phrase(rng, ANGLE_PHRASES, angle, "from " + labels.get(angle, angle.replace("_", " ")).lower())
    mv_parts = [_phrase(rng, MOVE_PHRASES, m, labels.get(m, m.replace("_", " ")).lower()) for m in movements]
    mv = mv_parts[0] if len(mv_parts) == 1 else ", then ".join(mv_parts)
    scene = params.get("scene", {})
    setting = _phrase(rng, SETTINGS, scene.get("ground", ""), "outdoors")
    when = _phrase(rng, TIMES, scene.get("time_of_day", ""), "")
    subj = params.get("subject")
    if subj:
        who = f"a person in a {colour_name(subj.get('shirt', (0.5, 0.5, 0.5)))} {_pick(rng, GARMENTS)}"
        if subj.get("hat"):
            who += " and a hat"
        elif subj.get("glasses"):
            who += " wearing glasses"
        if subj.get("walks"):
            who += " walking"
    else:
        who = _pick(rng, ["an empty landscape", "the open landscape", "a wide empty scene"])
    shape = int(rng.integers(4))
    if shape == 0:
        text = f"{fr} of {who} {setting} {when}, {an}; {mv}."
    elif shape == 1:
        text = f"{mv.capitalize()} in {fr} {an} of {who} {setting} {when}."
    elif shape == 2:
        text = f"Seen {an}, {fr} shows {who} {setting} {when} — {mv}."
    else:
        text = f"{fr} {an}: {who} {setting} {when}. {mv.capitalize()}."
    text = " ".join(text.split()).replace(" ,", ",").replace(" ;", ";").replace(" .", ".")
    return text[0].upper() + text[1:]
