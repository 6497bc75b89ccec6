"""Small videos for the dataset tests, made once per session (real photographs where it matters).

- `footage`: a folder as a user would import it: a 3-shot montage of camera moves over real
  photographs (pan, zoom, tilt), two single-shot clips, and a nested folder with one more;
- `corrupt`: a text file named .mp4 (the corrupt file among real ones);
- `montage_copies`: the montage renamed (same bytes) and re-encoded (other bytes, same frames).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cinestudio.media.encode import write_mp4
from cinestudio.store import open_workspace
from tests.helpers.photo_moves import photo, photo_move, shot_montage
from tests.helpers.videos import make_moving_video

SIZE = (160, 96)
MONTAGE_CUTS = [20, 40]      # a 60-frame montage: shots [0,20) [20,40) [40,60)
MONTAGE_MOVES = ["pan_left", "zoom_in", "tilt_up"]


def _photo(name: str) -> np.ndarray:
    img = photo(name)
    if img is None:
        pytest.skip("scikit-image's sample photographs are missing")
    return img


def montage_frames() -> np.ndarray:
    shots = [photo_move(_photo(name), move, frames=20, size=SIZE, speed=1.5)
             for name, move in zip(("astronaut.png", "motorcycle_left.png", "chelsea.png"), MONTAGE_MOVES)]
    frames, cuts = shot_montage(shots)
    assert cuts == MONTAGE_CUTS
    return frames


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("dataset_media")
    write_mp4(d / "montage.mp4", montage_frames(), fps=10)
    write_mp4(d / "rocket_pan.mp4", photo_move(_photo("rocket.jpg"), "pan_right", frames=16,
                                               size=SIZE), fps=10)
    make_moving_video(d / "pattern.mp4", frames=16, size=(96, 64), seed=1)
    make_moving_video(d / "pattern2.mp4", frames=16, size=(96, 64), seed=2)
    return d


@pytest.fixture
def footage(tmp_path, media_dir) -> Path:
    """A fresh folder: montage (3 shots), rocket_pan (1), nested/pattern (1)."""
    d = tmp_path / "footage"
    (d / "nested").mkdir(parents=True)
    shutil.copy(media_dir / "montage.mp4", d / "montage.mp4")
    shutil.copy(media_dir / "rocket_pan.mp4", d / "rocket_pan.mp4")
    shutil.copy(media_dir / "pattern.mp4", d / "nested" / "pattern.mp4")
    (d / "notes.txt").write_text("not a video, and not named like one\n", encoding="utf-8")
    return d


@pytest.fixture
def corrupt(tmp_path) -> Path:
    p = tmp_path / "broken.mp4"
    p.write_text("This is not a video, just some notes.\n" * 20, encoding="utf-8")
    return p


@pytest.fixture
def store(tmp_path):
    with open_workspace(tmp_path / "ws") as ws:
        yield ws
