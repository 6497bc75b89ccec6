"""The Annotate tab's keyboard: one key per class, and the keys of the actions around them.

Classes get keys by axis from fixed rows of the keyboard (framing: digits; angle: the top letter
row; movement: the home and bottom rows), so a scheme's first classes always sit on the same
keys; classes beyond a row's length get the Shift variant of that row. Letters used by actions
(J/K next/previous clip, L loop) never go to classes.
"""

from __future__ import annotations

from cinestudio.taxonomy import AXES, Taxonomy

ROWS: dict[str, str] = {
    "framing": "1234567890",
    "angle": "QWERTYUIOP",
    "movement": "ASDFGHZXCVBNM",
}

# Actions (QKeySequence strings); alternatives after the first.
ACTIONS: dict[str, tuple[str, ...]] = {
    "next_clip": ("J", "Ctrl+Down"),
    "previous_clip": ("K", "Ctrl+Up"),
    "accept_suggestion": ("Return", "Enter"),
    "fix": ("Shift+Return", "Shift+Enter"),
    "reject": ("Delete",),
    "remove_last_movement": ("Backspace",),
    "play_pause": ("Space",),
    "step_back": ("Left", ","),
    "step_forward": ("Right", "."),
    "first_frame": ("Home",),
    "last_frame": ("End",),
    "loop": ("L",),
    "undo": ("Ctrl+Z",),
    "redo": ("Ctrl+Shift+Z", "Ctrl+Y"),
    "focus_caption": ("Ctrl+E",),
}


def class_shortcuts(taxonomy: Taxonomy) -> dict[tuple[str, str], str]:
    """(axis, class key) -> key sequence string, for every class of the scheme."""
    out: dict[tuple[str, str], str] = {}
    for axis in AXES:
        row = ROWS[axis]
        for i, cls in enumerate(taxonomy.classes(axis)):
            base = row[i % len(row)]
            layer = i // len(row)
            if layer == 0:
                out[(axis, cls.key)] = base
            elif layer == 1:
                out[(axis, cls.key)] = f"Shift+{base}"
            elif layer == 2:
                out[(axis, cls.key)] = f"Alt+{base}"
            # schemes with more classes than three rows' worth get no key for the rest
    return out


def display(sequence: str) -> str:
    """A key sequence as shown on a button badge: 'Shift+A' -> '⇧A', 'Return' -> '⏎'."""
    return (sequence.replace("Shift+", "⇧").replace("Alt+", "⌥").replace("Ctrl+", "Ctrl+")
            .replace("Return", "⏎").replace("Delete", "Del").replace("Backspace", "⌫"))
