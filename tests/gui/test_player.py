"""The player is frame-accurate: every step, seek and played frame is the frame it claims."""

from __future__ import annotations

import pytest

from cinestudio.gui.widgets.images import qimage_to_rgb
from cinestudio.gui.widgets.player import PlayerWidget, timecode
from tests.helpers.videos import frame_number, make_moving_video


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    # keyframes every 12 frames: stepping back and seeking really have to seek
    return make_moving_video(tmp_path_factory.mktemp("player") / "v.mp4", frames=60,
                             size=(96, 64), fps=20, gop=12)


@pytest.fixture
def player(qtbot, video):
    widget = PlayerWidget(cache_frames=16, chunk=8)
    qtbot.addWidget(widget)
    widget.resize(480, 320)
    widget.show()
    widget.load(str(video), 10, 50, fps=20, width=96, height=64)   # clip = frames 10..49
    qtbot.waitUntil(lambda: widget.shown_index == 0, timeout=5000)
    return widget


def on_screen(player) -> int:
    return frame_number(qimage_to_rgb(player.current_image()))


def test_steps_and_seeks_show_exactly_the_frame_asked_for(qtbot, player):
    assert player.frame_count == 40 and on_screen(player) == 10
    player.step(1)
    qtbot.waitUntil(lambda: player.shown_index == 1, timeout=5000)
    assert on_screen(player) == 11
    player.step(-1)
    qtbot.waitUntil(lambda: player.shown_index == 0, timeout=5000)
    assert on_screen(player) == 10
    player.step(-1)                            # loops round to the clip's last frame
    qtbot.waitUntil(lambda: player.shown_index == 39, timeout=5000)
    assert on_screen(player) == 49
    for target in (25, 3, 38, 17):            # back and forth across keyframes
        player.seek(target)
        qtbot.waitUntil(lambda t=target: player.shown_index == t, timeout=5000)
        assert on_screen(player) == 10 + target
    assert player.slider.value() == 17
    assert "17 / 39" in player.position_label.text()


def test_playback_shows_every_frame_in_order_and_stops_at_the_end_without_loop(qtbot, player):
    shown: list[int] = []
    player.frameShown.connect(lambda i: shown.append(on_screen(player)))
    player.set_loop(False)
    player.set_speed(2.0)
    player.seek(30)
    player.play()
    qtbot.waitUntil(lambda: not player.playing, timeout=10000)
    assert player.position == 39
    played = [n for n in shown if n >= 40]
    assert played == list(range(played[0], 50))      # no frame skipped, none repeated
    assert played[-1] == 49


def test_scrubbing_never_blocks_and_lands_on_the_last_position(qtbot, player):
    for value in range(0, 40, 3):
        player.slider.setValue(value)            # each moves the playhead at once
        assert player.position == value
    qtbot.waitUntil(lambda: player.shown_index == 39, timeout=5000)
    assert on_screen(player) == 49


def test_a_clip_that_cannot_be_decoded_says_so(qtbot, player, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    player.load(str(bad), 0, 10)
    qtbot.waitUntil(lambda: "Cannot play" in player.view.message, timeout=5000)
    assert player.current_image() is None


def test_timecode():
    assert timecode(0, 25) == "00:00.00"
    assert timecode(62, 25) == "00:02.12"
    assert timecode(25 * 61, 25) == "01:01.00"
