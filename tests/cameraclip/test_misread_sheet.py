"""The misread sheet of `clip eval`: which clips it picks, and what it draws."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cinestudio.cameraclip.data import ClipItem, ClipTable
from cinestudio.cameraclip.evaluate import misreads, write_misread_sheet
from cinestudio.cameraclip.plots import MISREAD_TILE


def _table(labels: list[dict]) -> ClipTable:
    rng = np.random.default_rng(0)
    items = [ClipItem(Path(f"clip{i}.mp4"), {a: tuple(v) for a, v in lab.items()}) for i, lab in enumerate(labels)]
    frames = rng.integers(0, 256, (len(items), 8, 16, 16, 3), dtype=np.uint8)
    return ClipTable(items, frames, np.zeros((len(items), 7, 4), np.float32))


LABELS = [
    {"framing": ["close_up"], "angle": ["eye_level"], "movement": ["pan_left"]},
    {"framing": ["long_shot"], "angle": ["high_angle"], "movement": ["dolly_in", "pan_left"]},
    {"framing": ["medium_shot"], "angle": [], "movement": ["zoom_in"]},
]


def test_misreads_are_predictions_outside_the_labels():
    table = _table(LABELS)
    predictions = [
        {"framing": "close_up", "angle": "low_angle", "movement": "pan_right"},  # angle, movement wrong
        {"framing": "long_shot", "angle": "high_angle", "movement": "pan_left"},  # one of two movements: right
        {"framing": "long_shot", "angle": "overhead", "movement": "zoom_in"},  # framing wrong; angle unlabelled
    ]
    assert misreads(table, predictions) == [
        (2, "framing", "long_shot", ("medium_shot",)),
        (0, "angle", "low_angle", ("eye_level",)),
        (0, "movement", "pan_right", ("pan_left",)),
    ]


def test_the_sheet_shares_its_rows_among_the_axes_and_is_removed_when_nothing_is_misread(tmp_path):
    table = _table(LABELS * 4)  # 12 clips
    wrong = {"framing": "extreme_close_up", "angle": "overhead", "movement": "static"}
    predictions = [dict(wrong) for _ in range(12)]  # every labelled axis wrong: 12 + 8 + 12 misreads
    png = tmp_path / "misread.png"
    sheet = write_misread_sheet(png, table, predictions, limit=6)
    assert sheet == {"png": str(png), "n": 32, "shown": 6}
    img = cv2.imread(str(png))
    row = 18 + MISREAD_TILE + 6
    assert img.shape[0] == 26 + 6 * row and img.shape[1] == 9 * (MISREAD_TILE + 2) + 6
    # two rows per axis, in axis order: the first row's first tile is clip 0's first frame (BGR on disk)
    first_tile = cv2.resize(table.frames[0][0], (MISREAD_TILE, MISREAD_TILE), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(img[26 + 18:26 + 18 + MISREAD_TILE, :MISREAD_TILE], first_tile[..., ::-1])

    right = [{a: LABELS[i % 3][a][0] if LABELS[i % 3][a] else "eye_level" for a in LABELS[0]} for i in range(12)]
    assert write_misread_sheet(png, table, right) == {"png": None, "n": 0, "shown": 0}
    assert not png.exists()  # the earlier sheet no longer describes this evaluation
