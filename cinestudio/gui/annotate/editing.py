"""How a key press or click changes a label (pure functions: no Qt, tested headless).

- framing / angle: picking a class sets it; picking the set class again clears it.
- movement: an ordered sequence. Picking a class not in it appends it (pan_left, then zoom_in);
  picking one already in it removes it. ``static`` excludes the others: picking it replaces the
  sequence, and picking a movement drops ``static``.
"""

from __future__ import annotations

import dataclasses

from cinestudio.gui.annotate.backend import LabelState

STATIC = "static"


def pick(state: LabelState, axis: str, key: str) -> LabelState:
    if axis == "framing":
        return dataclasses.replace(state, framing=None if state.framing == key else key)
    if axis == "angle":
        return dataclasses.replace(state, angle=None if state.angle == key else key)
    if axis != "movement":
        raise ValueError(f"unknown axis {axis!r}")
    moves = list(state.movements)
    if key in moves:
        moves.remove(key)
    elif key == STATIC:
        moves = [STATIC]
    else:
        moves = [m for m in moves if m != STATIC] + [key]
    return dataclasses.replace(state, movements=tuple(moves))


def drop_last_movement(state: LabelState) -> LabelState:
    return dataclasses.replace(state, movements=state.movements[:-1])


def with_caption(state: LabelState, caption: str | None) -> LabelState:
    caption = (caption or "").strip() or None
    return dataclasses.replace(state, caption=caption)


def take_suggestion(state: LabelState, suggested: LabelState) -> LabelState:
    """The suggestion on every axis it covers; the other axes (and the caption) as they were."""
    return LabelState(framing=suggested.framing or state.framing,
                      angle=suggested.angle or state.angle,
                      movements=suggested.movements or state.movements,
                      caption=state.caption)
