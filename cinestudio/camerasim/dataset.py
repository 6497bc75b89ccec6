"""Exactly labelled clips from the simulator: MP4 files and ``labels.jsonl``.

`plan_dataset` lays out the clips: for every axis of the scheme and every class on it, `per_class`
clips have that class as their *target*; the other two axes of each clip take the class used least
so far (ties drawn at random), so they are balanced too — except that no clip is an extreme
close-up zoom or dolly, which no picture can tell apart (`_INDISTINCT`). `render_clip` draws a
clip again when its picture would not support its label: a move that changes nothing in view, a
zoom that would look the same as a dolly or the other way round. Every clip has its own
seed, and 40 % of clips a slight hand-held wobble on top of their move (`SHAKE_SHARE`), as real
footage has, unless the scheme has a ``handheld`` class of its own.

`simulate_dataset` renders and encodes them (``clips/NNNNNN_framing_angle_movement.mp4``) and
writes ``labels.jsonl``: one JSON object per clip with ``file`` (relative), ``framing``,
``angle``, ``movement``, ``caption`` and the camera: start/end, per-frame trajectory, moves and
their amounts, focus and aperture, the subject's size, height and distance, the scene.

Output is deterministic for a seed: the same arguments give a byte-identical ``labels.jsonl`` and
identical frames. It is also safe to interrupt: each MP4 is written atomically and recorded in
``labels.partial.jsonl`` only once it exists; ``labels.jsonl`` is written atomically (at the end,
or on cancel with the clips done so far), so it never names a missing file. Running again with the
same arguments resumes.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinestudio.camerasim.camera import ANGLE_SPECS, FRAMING_VISIBLE_HEIGHT, KNOWN_MOVES, SCALE_MOVES
from cinestudio.camerasim.captions import caption
from cinestudio.camerasim.shot import (ShotSpec, assemble_scene, move_contrast, picture_motion, plan_shot,
                                       render_planned, render_shot, shot_rng, zoom_dolly_contrast)
from cinestudio.errors import UserInputError
from cinestudio.fsutil import write_json_atomic, write_text_atomic
from cinestudio.progress import Cancelled, ProgressFn, StopFn, check_stop
from cinestudio.taxonomy import AXES, load_taxonomy

LABELS = "labels.jsonl"
PARTIAL = "labels.partial.jsonl"
MANIFEST = "simulate.json"
SUPPORTED = {"framing": set(FRAMING_VISIBLE_HEIGHT), "angle": set(ANGLE_SPECS), "movement": set(KNOWN_MOVES)}

#: (framing, movement) pairs the data set never combines: in an extreme close-up the face fills the
#: frame, one flat layer, so a dolly there shows no parallax and is pixel for pixel a zoom (parallax
#: AUC dolly vs zoom 0.49-0.57 at 64 px); a label telling them apart would be one no picture
#: supports. (`render_shot` still renders them.)
_INDISTINCT = {("extreme_close_up", m) for m in SCALE_MOVES}

#: Least `zoom_dolly_contrast` (grey levels) of a zoom or dolly clip: the same rule for every
#: framing. Below 3 the last frame made the other way is all but the same picture, and CameraCLIP
#: runs got 58 % of such test clips wrong (chance); 3-8: 28 %, above 8: 16 %.
MIN_ZOOM_DOLLY_CONTRAST = 4.0

#: Least `move_contrast` (grey levels) of a moving clip: under it the last frame is all but the
#: first (a camera following the top of a head from above), and a label naming the move is one no
#: picture supports. Under 2, CameraCLIP runs got 42 % of such test clips wrong, 17 % of the rest.
MIN_MOVE_CONTRAST = 2.0

#: Share of clips filmed "hand-held", and the wobble's range (the `handheld` move's units: 0.15-0.5
#: is 0.3-1 % of the frame width, a steady hand; the handheld class itself is 0.6-1.6). Without it
#: every simulated move was tripod-smooth, and shaky real footage read as tracking.
SHAKE_SHARE = 0.4
SHAKE_RANGE = (0.15, 0.5)


#: With `readable_tracking`: in a tracking shot the picture's dominant textured part must move at
#: least this fast (`picture_motion`, frame widths per frame), and no tracking shot is an extreme
#: close-up (the face fills the frame). Without it, more than half of the simulator's tracking shots
#: had a sharp subject that stays put outweighing a soft background, which looks like a still
#: camera on someone moving, and CameraCLIP called real still shots of moving people tracking
#: (a motion-only probe without those shots got 9 of 14 such real clips right, against 3; see
#: docs/cameraclip.md, ninth session).
MIN_PICTURE_MOTION = 0.002
_UNREADABLE_TRACKING = {("extreme_close_up", "tracking")}
#: On by default since the tenth session: trained on it (with the hand-held and hat fixes), three
#: CameraCLIP seeds beat the earlier default's three on every simulated test set (movement, mean
#: +0.01 to +0.03), real camera-only moves 0.919 against 0.927 on the mean; see docs/cameraclip.md.
DEFAULT_READABLE_TRACKING = True


def _compatible(values: dict[str, str], readable_tracking: bool = DEFAULT_READABLE_TRACKING) -> bool:
    pair = (values.get("framing"), values.get("movement"))
    return pair not in _INDISTINCT and not (readable_tracking and pair in _UNREADABLE_TRACKING)


@dataclass(frozen=True)
class ClipPlan:
    index: int
    target_axis: str
    framing: str
    angle: str
    movement: str
    seed: int
    shake: float = 0.0

    @property
    def file(self) -> str:
        return f"clips/{self.index:06d}_{self.framing}_{self.angle}_{self.movement}.mp4"


#: `simulate`'s share of walking subjects (`ShotSpec.subject_walks`). Trained on data made with it
#: (two seeds), CameraCLIP got real moving-subject clips right 0.61-0.65 against 0.53-0.57 without,
#: and camera-only real clips 0.907-0.939 against 0.894-0.937; 0.35 lifted the first to 0.71-0.73
#: but lowered the second to 0.88-0.905 (docs/cameraclip.md, eighth session).
DEFAULT_SUBJECT_WALKS = 0.15


def _scheme_keys(scheme: str) -> dict[str, list[str]]:
    tax = load_taxonomy(scheme)
    keys = {axis: tax.keys(axis) for axis in AXES}
    for axis in AXES:
        missing = [k for k in keys[axis] if k not in SUPPORTED[axis]]
        if missing:
            raise UserInputError(scheme, f"the simulator cannot render {axis} class(es) {', '.join(missing)}")
    return keys


def plan_dataset(per_class: int, seed: int, scheme: str = "cinematic2k",
                 readable_tracking: bool = DEFAULT_READABLE_TRACKING) -> list[ClipPlan]:
    """The clips of a dataset: each class of each axis is the target of `per_class` clips."""
    if per_class < 1:
        raise UserInputError(str(per_class), "--per-class must be at least 1")
    keys = _scheme_keys(scheme)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xDA7A])
    shake_rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5A4E])
    shaky = "handheld" not in keys["movement"]
    counts = {axis: Counter({k: 0 for k in keys[axis]}) for axis in AXES}
    rows = []
    for axis in AXES:
        for key in keys[axis]:
            for _ in range(per_class):
                rows.append((axis, key))
    order = rng.permutation(len(rows))
    plans = []
    for index, r in enumerate(order):
        target_axis, target_key = rows[int(r)]
        values = {target_axis: target_key}
        for axis in AXES:
            if axis == target_axis:
                continue
            allowed = [k for k in keys[axis] if _compatible({**values, axis: k}, readable_tracking)]
            least = min(counts[axis][k] for k in allowed)
            choices = [k for k in allowed if counts[axis][k] == least]
            values[axis] = choices[int(rng.integers(len(choices)))]
        for axis in AXES:
            counts[axis][values[axis]] += 1
        shake = float(shake_rng.uniform(*SHAKE_RANGE)) if shake_rng.random() < SHAKE_SHARE else 0.0
        plans.append(ClipPlan(index, target_axis, values["framing"], values["angle"], values["movement"],
                              int(rng.integers(0, 2**31 - 1)), shake if shaky else 0.0))
    return plans


def plan_scale_moves(per_cell: int, seed: int, scheme: str = "cinematic2k") -> list[ClipPlan]:
    """Clips for telling a zoom from a dolly (CameraCLIP's zoom/dolly expert): `per_cell` clips of
    every framing the data set combines with scale moves, times each scale move of the scheme, with
    angles drawn at random and the data set's share of hand-held wobble. Deterministic for a seed."""
    keys = _scheme_keys(scheme)
    moves = {m: per_cell for m in keys["movement"] if m in SCALE_MOVES}
    return _plan_moves(keys, moves, np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5CA1E]))


def plan_track_moves(per_cell: int, seed: int, scheme: str = "cinematic2k") -> list[ClipPlan]:
    """Clips for telling a pan from a tracking shot (CameraCLIP's pan/tracking expert): for every
    framing the data set films tracking shots in, `per_cell` pans each way and twice as many
    tracking shots (the two groups alike in number), with angles drawn at random and the data set's
    share of hand-held wobble. Deterministic for a seed."""
    keys = _scheme_keys(scheme)
    moves = {m: per_cell for m in ("pan_left", "pan_right") if m in keys["movement"]}
    if "tracking" in keys["movement"]:
        moves["tracking"] = 2 * per_cell
    framings = [f for f in keys["framing"] if _compatible({"framing": f, "movement": "tracking"})]
    return _plan_moves({**keys, "framing": framings}, moves, np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x7AC]))


def _plan_moves(keys: dict[str, list[str]], moves: dict[str, int], rng: np.random.Generator) -> list[ClipPlan]:
    """`moves[m]` clips of move m for every framing of `keys` the data set combines it with."""
    if min(moves.values(), default=0) < 1:
        raise UserInputError(str(min(moves.values(), default=0)), "need at least 1 clip per framing and move")
    shaky = "handheld" not in keys["movement"]
    plans: list[ClipPlan] = []
    for framing in keys["framing"]:
        for move, count in moves.items():
            if not _compatible({"framing": framing, "movement": move}):
                continue
            for _ in range(count):
                angle = keys["angle"][int(rng.integers(len(keys["angle"])))]
                shake = float(rng.uniform(*SHAKE_RANGE)) if rng.random() < SHAKE_SHARE else 0.0
                plans.append(ClipPlan(len(plans), "movement", framing, angle, move,
                                      int(rng.integers(0, 2**31 - 1)), shake if shaky else 0.0))
    return plans


def render_clip(plan: ClipPlan, frames: int, size: int, fps: float, tries: int = 6, subject_walks: float = 0.0,
                passers_by: float = 0.0, readable_tracking: bool = DEFAULT_READABLE_TRACKING):
    """Render a planned clip. A clip whose label the picture could not support is drawn again
    from derived seeds, deterministically: a camera path that cannot stay inside its classes
    (rare, for near-contradictory combinations such as a worm's-eye pedestal in an extreme long
    shot), a move that leaves the picture all but unchanged (`move_contrast` under
    `MIN_MOVE_CONTRAST`), or a zoom or dolly that would look the same made the other way
    (`zoom_dolly_contrast` under `MIN_ZOOM_DOLLY_CONTRAST`). When no try passes, the most telling
    one in its classes is kept (the last try when none is)."""
    measured = plan.movement not in ("static", "handheld")
    chosen, best, spec, contrasts = None, -1.0, None, {}
    for k in range(tries):
        seed = plan.seed if k == 0 else (plan.seed + 7919 * k) % (2**31 - 1)
        spec = ShotSpec(plan.framing, plan.angle, [plan.movement], frames=frames, size=size, fps=fps, seed=seed,
                        shake=plan.shake, subject_walks=subject_walks, passers_by=passers_by)
        rng = shot_rng(seed)
        shot_plan = plan_shot(spec, rng)
        if not shot_plan.in_class:
            continue
        scene = assemble_scene(rng, shot_plan)
        if not measured:
            chosen = (spec, rng, shot_plan, scene)
            break
        got = {"move_contrast": move_contrast(spec, shot_plan, scene)}
        score = got["move_contrast"] / MIN_MOVE_CONTRAST
        if plan.movement in SCALE_MOVES:
            got["zoom_dolly_contrast"] = zoom_dolly_contrast(spec, shot_plan, scene)
            score = min(score, got["zoom_dolly_contrast"] / MIN_ZOOM_DOLLY_CONTRAST)
        if readable_tracking and plan.movement == "tracking":
            got["picture_motion"] = picture_motion(spec, shot_plan, scene)
            score = min(score, got["picture_motion"] / MIN_PICTURE_MOTION)
        if score > best:
            chosen, best, contrasts = (spec, rng, shot_plan, scene), score, got
        if score >= 1.0:
            break
    shot = render_planned(*chosen) if chosen else render_shot(spec)
    shot.params.update({key: round(v, 5 if key == "picture_motion" else 3) for key, v in contrasts.items()})
    return shot


def clip_record(plan: ClipPlan, shot, scheme: str, fps: float) -> dict:
    """The labels.jsonl object of one rendered clip."""
    p = shot.params
    rng = np.random.default_rng([plan.seed, 0xCA9])
    tax = load_taxonomy(scheme)
    human = {c.key: c.label for axis in AXES for c in tax.classes(axis)}
    text = caption(rng, plan.framing, plan.angle, [plan.movement], p, human)
    cams = shot.camera
    traj = [{k: c[k] for k in ("position", "yaw", "pitch", "roll", "focal_mm", "focus_m")} for c in cams]
    record = {
        "file": plan.file,
        "framing": plan.framing,
        "angle": plan.angle,
        "movement": plan.movement,
        "caption": text,
        "target_axis": plan.target_axis,
        "scheme": scheme,
        "seed": shot.spec.seed,
        "in_class": shot.params.get("in_class", True),
        "frames": int(shot.frames.shape[0]),
        "fps": fps,
        "width": int(shot.frames.shape[2]),
        "height": int(shot.frames.shape[1]),
        "camera": {"start": p["start"], "end": p["end"]},
        "start_position": p["start"]["position"], "end_position": p["end"]["position"],
        "yaw": [p["start"]["yaw"], p["end"]["yaw"]],
        "pitch": [p["start"]["pitch"], p["end"]["pitch"]],
        "roll": [p["start"]["roll"], p["end"]["roll"]],
        "focal_mm": [p["start"]["focal_mm"], p["end"]["focal_mm"]],
        "focus_m": [p["start"]["focus_m"], p["end"]["focus_m"]],
        "f_number": p["start"]["f_number"],
        "subject_distance": p["subject_distance"],
        "subject_depth": [p["start"]["subject_depth"], p["end"]["subject_depth"]],
        "visible_height_m": [p["start"]["visible_height"], p["end"]["visible_height"]],
        "subject": p["subject"],
        "moves": p["moves"],
        "shake": p.get("shake", 0.0),
        "move_contrast": p.get("move_contrast"),
        "zoom_dolly_contrast": p.get("zoom_dolly_contrast"),
        "rack_focus": p.get("rack_focus"),
        "scene": p["scene"],
        "trajectory": traj,
    }
    if "picture_motion" in p:  # only with readable_tracking: earlier labels stay as they were
        record["picture_motion"] = p["picture_motion"]
    return record


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def simulate_dataset(out_dir: str | os.PathLike[str], per_class: int, seed: int, size: int = 64, frames: int = 16,
                     fps: float = 8, scheme: str = "cinematic2k", progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None, crf: int = 0,
                     subject_walks: float = DEFAULT_SUBJECT_WALKS, passers_by: float = 0.0,
                     readable_tracking: bool = DEFAULT_READABLE_TRACKING) -> dict:
    """Render a labelled dataset into `out_dir`; returns a summary
    ``{"out", "clips", "labels", "per_class_counts"}``.

    `crf` is the H.264 quality: 0 (the default) is lossless, so the decoded frames are exactly
    the rendered ones and identical from run to run (x264's lossy output was seen to differ
    slightly between runs of the same input); higher values make smaller files. `subject_walks` is
    the share of shots whose subject walks across the frame on its own (`ShotSpec.subject_walks`),
    `passers_by` the share with a stranger crossing the view (`ShotSpec.passers_by`), and
    `readable_tracking` keeps tracking shots whose picture visibly travels (`MIN_PICTURE_MOTION`)."""
    from cinestudio.media.encode import write_mp4

    if size < 16 or size > 2048:
        raise UserInputError(str(size), "--size must be between 16 and 2048 pixels")
    if frames < 2 or frames > 1000:
        raise UserInputError(str(frames), "--frames must be between 2 and 1000")
    if not (fps > 0):
        raise UserInputError(str(fps), "--fps must be positive")
    if not (0 <= crf <= 51):
        raise UserInputError(str(crf), "--crf must be between 0 (lossless) and 51")
    if not (0.0 <= subject_walks <= 1.0):
        raise UserInputError(str(subject_walks), "--subject-walks must be between 0 and 1")
    if not (0.0 <= passers_by <= 1.0):
        raise UserInputError(str(passers_by), "--passers-by must be between 0 and 1")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError(out, "exists and is not a folder")
    plans = plan_dataset(per_class, seed, scheme, readable_tracking)
    manifest = {"per_class": per_class, "seed": seed, "size": size, "frames": frames, "fps": fps, "scheme": scheme,
                "crf": crf, "clips": len(plans)}
    if subject_walks:  # only then: folders made without walking subjects keep their settings
        manifest["subject_walks"] = subject_walks
    if passers_by:
        manifest["passers_by"] = passers_by
    if readable_tracking:
        manifest["readable_tracking"] = True
    out.mkdir(parents=True, exist_ok=True)
    mpath = out / MANIFEST
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != manifest:
            raise UserInputError(out, "holds a simulated dataset made with other settings; choose another folder")
    elif (out / LABELS).exists():
        raise UserInputError(out, "already holds a labels.jsonl; choose another folder")
    write_json_atomic(mpath, manifest)

    done: dict[int, str] = {}
    partial = out / PARTIAL
    if partial.exists():
        for line in partial.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut by an interruption
            idx = rec.get("_index")
            if isinstance(idx, int) and 0 <= idx < len(plans) and (out / rec["file"]).is_file():
                rec.pop("_index")
                done[idx] = _dumps(rec)
    if (out / LABELS).exists():
        by_file = {p.file: p.index for p in plans}
        for line in (out / LABELS).read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            idx = by_file.get(rec.get("file"))
            if idx is not None and idx not in done and (out / rec["file"]).is_file():
                done[idx] = _dumps(rec)
    total = len(plans)
    progress = progress or (lambda d, t, m="": None)
    progress(len(done), total, "resuming" if done else "starting")

    def finish() -> None:
        lines = [done[i] for i in sorted(done)]
        write_text_atomic(out / LABELS, "".join(line + "\n" for line in lines))

    (out / "clips").mkdir(exist_ok=True)
    try:
        with open(partial, "a", encoding="utf-8") as log:
            for plan in plans:
                if plan.index in done:
                    continue
                check_stop(should_stop)
                shot = render_clip(plan, frames=frames, size=size, fps=fps, subject_walks=subject_walks,
                                   passers_by=passers_by, readable_tracking=readable_tracking)
                write_mp4(out / plan.file, shot.frames, fps, crf=crf)
                rec = clip_record(plan, shot, scheme, fps)
                done[plan.index] = _dumps(rec)
                log.write(_dumps({**rec, "_index": plan.index}) + "\n")
                log.flush()
                progress(len(done), total, plan.file)
    except Cancelled:
        finish()
        raise
    finish()
    partial.unlink(missing_ok=True)
    counts = {axis: dict(Counter(getattr(p, axis) for p in plans)) for axis in AXES}
    keys = _scheme_keys(scheme)
    counts = {axis: {k: counts[axis].get(k, 0) for k in keys[axis]} for axis in AXES}
    return {"out": str(out), "clips": total, "labels": str(out / LABELS), "per_class_counts": counts}
