"""Storyboard test helpers: small boards that render in well under a second per shot."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cinestudio.storyboard.model import Board, Shot

SIZE = (160, 96)
FPS = 12.0


def three_shots() -> list[Shot]:
    """The acceptance sequence: long shot pan right, low angle dolly in, close-up static."""
    return [
        Shot("Wide", "a figure in a park", "long_shot", "eye_level", ["pan_right"], 16, "frames", seed=1, id="s00000001"),
        Shot("Low", "seen from below", "medium_shot", "low_angle", ["dolly_in"], 1.25, "seconds", seed=2,
             id="s00000002"),
        Shot("Close", "the face", "close_up", "eye_level", ["static"], 12, "frames", seed=3, id="s00000003"),
    ]


def small_board(**kw) -> Board:
    return Board(name=kw.pop("name", "Test board"), fps=FPS, width=SIZE[0], height=SIZE[1],
                 shots=kw.pop("shots", None) or three_shots(), **kw)


def textured_picture(path, w: int = 480, h: int = 300, seed: int = 0):
    """A picture with plenty of corners for the optical-flow estimator (written as PNG)."""
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (h // 6, w // 6, 3), dtype=np.uint8), (w, h),
                     interpolation=cv2.INTER_NEAREST)
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(img, (x, y), int(rng.integers(4, 18)), tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def board() -> Board:
    return small_board()
