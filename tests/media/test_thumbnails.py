"""Thumbnails: the right frame, the right size, written atomically."""

from __future__ import annotations

import cv2
import pytest

from cinestudio.errors import MediaError, UserInputError
from cinestudio.media.thumbnails import fit_size, save_thumbnail, thumbnail
from tests.helpers.videos import frame_number, make_moving_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_moving_video(tmp_path_factory.mktemp("thumb") / "clip.mp4", frames=21, size=(96, 48), gop=5)


def test_fit_size():
    assert fit_size(1920, 1080, 160) == (160, 90)
    assert fit_size(100, 400, 160) == (40, 160)
    assert fit_size(64, 48, 160) == (64, 48)  # never enlarged


def test_thumbnail_default_is_the_middle_frame_at_full_size_when_small(clip):
    t = thumbnail(clip, max_size=160)
    assert t.shape == (48, 96, 3)
    assert frame_number(t) == 10


def test_thumbnail_of_a_chosen_frame_shrunk(clip):
    t = thumbnail(clip, frame_index=17, max_size=60)
    assert t.shape == (30, 60, 3)
    assert frame_number(t) == 17


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_save_thumbnail(clip, tmp_path, suffix):
    out = save_thumbnail(clip, tmp_path / f"sub/thumb{suffix}", frame_index=4, max_size=96)
    assert out.exists()
    img = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert img.shape == (48, 96, 3)
    assert frame_number(img) == 4
    assert sorted(p.name for p in out.parent.iterdir()) == [f"thumb{suffix}"]


def test_save_thumbnail_errors_leave_nothing(clip, bad_files, tmp_path):
    with pytest.raises(UserInputError, match="unsupported image type"):
        save_thumbnail(clip, tmp_path / "thumb.txt")
    with pytest.raises(MediaError):
        save_thumbnail(bad_files["text_mp4"], tmp_path / "thumb.jpg")
    with pytest.raises(UserInputError):
        thumbnail(clip, frame_index=21)
    assert list(tmp_path.iterdir()) == []
