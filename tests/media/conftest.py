"""Shared small videos for the media tests (made once per session, in milliseconds)."""

from __future__ import annotations

import pytest

from tests.helpers.videos import make_corrupt_files, make_moving_video


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory):
    return make_corrupt_files(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    """name -> path of readable clips with different codecs, containers and GOP structures."""
    d = tmp_path_factory.mktemp("videos")
    return {
        # several GOPs, B-frames (x264 default) — frames are reordered
        "h264_gop7": make_moving_video(d / "h264_gop7.mp4", frames=40, gop=7),
        # no B-frames, odd GOP
        "h264_gop5_nob": make_moving_video(d / "h264_gop5_nob.mp4", frames=33, gop=5, bframes=0),
        # one keyframe only
        "h264_onegop": make_moving_video(d / "h264_onegop.mp4", frames=24),
        "mjpeg_avi": make_moving_video(d / "mjpeg.avi", frames=30, codec="mjpeg"),
        "mp4v_avi": make_moving_video(d / "mp4v.avi", frames=30, codec="mp4v"),
        "mpeg4_gop6_mkv": make_moving_video(d / "mpeg4_gop6.mkv", frames=25, codec="mpeg4", gop=6),
    }
