"""The import's single analysis pass: a last shot too short for a motion burst."""

from __future__ import annotations

import pytest

from cinestudio.dataset import analysis
from cinestudio.media.encode import write_mp4
from cinestudio.media.probe import probe
from tests.dataset.conftest import SIZE, _photo
from tests.helpers.photo_moves import photo_move, shot_montage


@pytest.fixture(scope="module")
def short_last_shot(tmp_path_factory):
    """45 frames of a pan right, then 10 of a pan left: at 25 fps bursts start every 20 frames
    (0, 20, 40, 60), so the last shot [45, 55) holds none."""
    frames, cuts = shot_montage([
        photo_move(_photo("astronaut.png"), "pan_right", frames=45, size=SIZE, speed=1.5),
        photo_move(_photo("chelsea.png"), "pan_left", frames=10, size=SIZE, speed=1.5)])
    assert cuts == [45]
    return write_mp4(tmp_path_factory.mktemp("analysis") / "short_last.mp4", frames, fps=25)


def test_a_short_last_shot_is_estimated_from_kept_frames_not_decoded_again(short_last_shot,
                                                                           monkeypatch):
    assert analysis.motion_period(25.0) == 20
    # what decoding the shot again gives (the way shots mid-video still go)
    again = analysis._motion_by_seeking(str(short_last_shot), 45, 55, 25.0, None)

    def no_seeking(*args, **kwargs):
        raise AssertionError("the last shot was decoded again")

    monkeypatch.setattr(analysis, "_motion_by_seeking", no_seeking)
    # as the import calls it: the header's frame count, not counted
    result = analysis.analyse_video(short_last_shot, info=probe(short_last_shot, count=False))
    assert [(s.start, s.end) for s in result.shots] == [(0, 45), (45, 55)]
    last = result.shots[1].motion
    assert last["pairs"] == 9 and last["dominant"] == again["dominant"] == ["pan_left"]
    assert result.shots[0].motion["dominant"] == ["pan_right"]


def test_without_a_frame_count_in_the_header_the_short_shot_is_decoded_again(short_last_shot,
                                                                            monkeypatch):
    calls = []
    seeking = analysis._motion_by_seeking
    monkeypatch.setattr(analysis, "_motion_by_seeking",
                        lambda *a, **k: calls.append(a[1:3]) or seeking(*a, **k))
    info = probe(short_last_shot, count=False)
    silent = type(info)(**{**info.to_dict(), "frames": 0})   # no count: no tail is kept
    result = analysis.analyse_video(short_last_shot, info=silent)
    assert calls == [(45, 55)] and result.shots[1].motion["dominant"] == ["pan_left"]
