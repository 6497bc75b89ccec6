"""The demo workspace's sample storyboard ("Demo: the stroll"), renderable with previz at once.

`ensure_demo_storyboard(store)` adds it when the workspace has no board of that name (so it is
idempotent, and a workspace built before storyboards existed gets it the next time the demo is
built). One shot moves over a reference picture, made here with the simulator, to show planar
previz over a still.
"""

from __future__ import annotations

from cinestudio.storyboard.model import Board, Shot

DEMO_BOARD = "Demo: the stroll"
REFERENCE_NAME = "demo-reference.png"
#: One look for the whole sequence (the simulator otherwise draws a scene per shot).
LOOK = {"environment": "outdoor", "time_of_day": "golden"}


def demo_shots(reference: str | None = None) -> list[Shot]:
    shots = [
        Shot("Establishing", "a quiet park at dusk, a figure in the distance", "extreme_long_shot", "eye_level",
             ["pan_right"], 2.5, "seconds", seed=11, id="sdemo001",
             notes="Find the walker in the landscape."),
        Shot("Approach", "the walker comes closer along the path", "long_shot", "eye_level", ["dolly_in"], 2.0,
             "seconds", seed=12, id="sdemo002"),
        Shot("Looking up", "seen from below, the walker stops", "medium_shot", "low_angle", ["tilt_up"], 2.0,
             "seconds", seed=13, id="sdemo003"),
        Shot("Reaction", "a close-up of the face, still", "close_up", "eye_level", ["static"], 18, "frames",
             seed=14, id="sdemo004"),
        Shot("Pull back", "from above, the camera pulls back", "long_shot", "high_angle",
             ["zoom_out"], 2.0, "seconds", seed=15, id="sdemo005"),
    ]
    if reference:
        shots.append(Shot("Postcard", "the park as a postcard, the camera drifts across it",
                          "extreme_long_shot", "eye_level", ["pan_left", "zoom_in"], 3.0, "seconds", seed=16,
                          reference_image=reference, id="sdemo006", notes="Planar previz over a still picture."))
    return shots


def _make_reference(store) -> str | None:
    from cinestudio.camerasim.shot import ShotSpec, render_shot
    from cinestudio.storyboard.export import write_png
    from cinestudio.storyboard.service import REFS_DIR

    path = store.paths.root / REFS_DIR / REFERENCE_NAME
    if not path.exists():
        still = render_shot(ShotSpec("extreme_long_shot", "eye_level", ["static"], frames=1, size=(640, 360),
                                     fps=12.0, seed=21, environment="outdoor", time_of_day=LOOK["time_of_day"]))
        write_png(path, still.frames[0])
    return f"{REFS_DIR}/{REFERENCE_NAME}"


def ensure_demo_storyboard(store) -> Board | None:
    """Add the sample storyboard unless the workspace has it; return it when added."""
    from cinestudio.storyboard.service import create_board

    if store.storyboards.find(DEMO_BOARD) is not None:
        return None
    board = create_board(store, DEMO_BOARD, fps=12.0, width=320, height=180, shots=demo_shots(_make_reference(store)),
                         actor="demo")
    board.notes = "A sample sequence: render it with previz (Render all), play it, export it."
    board.previz = dict(LOOK)
    from cinestudio.storyboard.service import save_board

    return save_board(store, board)
