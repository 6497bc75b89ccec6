"""What a video file holds — counting the frames that really decode, not what headers claim.

Container headers lie (a Cinepak AVI can claim 444 frames and decode 68; a cut-off MP4 keeps an
index of frames whose data is gone). `probe` trusts the header's frame count only when seeking
to the last claimed frame and decoding it works; otherwise it counts:

1. a demux-only pass over the packets (no decoding): empty "dropped-frame" chunks and packets
   flagged as truncated are not frames;
2. the packets from the second-to-last keyframe on are then really decoded, so frames lost at a
   cut-off end are not counted.

AVI files are always counted that way (their headers are the usual liars and their empty chunks
look like frames to the header). Frames broken in the middle of an otherwise readable stream are
beyond this check: they are counted as they demux.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from cinestudio.errors import MediaError
from cinestudio.media._av import (
    COUNT_ALWAYS_FORMATS,
    NONREF_SKIP_CODECS,
    PacketIndex,
    check_path,
    decode_all,
    decode_packets,
    frame_rate,
    open_video,
    scan,
)

__all__ = ["VideoInfo", "probe", "analyse"]


@dataclass(frozen=True)
class VideoInfo:
    """A video's facts. `frames` is what decodes; `header_frames` what the container claims
    (0 when it does not say); `counted` how `frames` was established: ``"header"`` (claim
    verified by seeking to the last frame), ``"packets"`` (counted), ``"claimed"`` (the
    header's word, unchecked: `probe(..., count=False)`) or ``"decoded"`` (every frame decoded,
    as an import's analysis does)."""

    path: str
    frames: int
    fps: float
    width: int
    height: int
    duration: float
    codec: str
    header_frames: int
    container: str
    counted: str

    def to_dict(self) -> dict:
        return asdict(self)


def probe(path: str | os.PathLike[str], count: bool = True) -> VideoInfo:
    """Facts about the video at `path`; MediaError (a UserInputError) for anything unreadable.

    `count=False` skips checking the frame count (seeking to the last claimed frame, or
    counting packets, can cost a good part of a decode for long GOPs): `frames` is then the
    header's claim (0 if none) and `counted` is ``"claimed"`` — for callers that decode every
    frame anyway and count them themselves (import). The first frame is still decoded, so an
    undecodable file fails here as it does with counting.
    """
    if count:
        return analyse(path, need_index=False)[0]
    p = check_path(path)
    with open_video(p) as (container, stream):
        fmt, codec, header, fps, first = _open_facts(p, container, stream)
        return VideoInfo(path=str(p), frames=header, fps=fps, width=first.width, height=first.height,
                         duration=header / fps if fps else 0.0, codec=codec, header_frames=header,
                         container=fmt, counted="claimed")


def _open_facts(p, container: av.container.InputContainer, stream: av.VideoStream
                ) -> tuple[str, str, int, float, av.VideoFrame]:
    """(container format, codec, header frame count or 0, fps, first frame) of an opened video;
    MediaError when not even the first frame decodes."""
    codec = stream.codec_context.name
    first = next(decode_all(container, stream), None)
    if first is None:
        raise MediaError(p, f"no video frame can be decoded ({codec} data corrupt or unsupported)")
    return container.format.name, codec, max(0, int(stream.frames or 0)), frame_rate(stream), first


def analyse(path: str | os.PathLike[str], need_index: bool = True) -> tuple[VideoInfo, PacketIndex | None]:
    """`probe`, plus (when `need_index`) the packet index that seeking needs."""
    p = check_path(path)
    index: PacketIndex | None = None
    with open_video(p) as (container, stream):
        fmt, codec, header, fps, first = _open_facts(p, container, stream)
        width, height = first.width, first.height
        trusted = (header > 0 and fmt not in COUNT_ALWAYS_FORMATS and first.pts is not None and fps > 0
                   and _last_claimed_frame_decodes(container, stream, first.pts, header, fps))
    if trusted and need_index:
        with open_video(p) as (container, stream):
            index = scan(container, stream, verify_tail=False)
        if index.frames != header or index.corrupt or index.read_error:
            trusted = False
        index.frames = header
    if trusted:
        frames, counted = header, "header"
    else:
        with open_video(p) as (container, stream):
            index = scan(container, stream, verify_tail=True)
        frames, counted = index.frames, "packets"
        if frames == 0:
            raise MediaError(p, f"no video frame can be decoded ({codec} data corrupt or unsupported)")
    info = VideoInfo(path=str(p), frames=frames, fps=fps, width=width, height=height,
                     duration=frames / fps if fps else 0.0, codec=codec, header_frames=header,
                     container=fmt, counted=counted)
    return info, index


def _last_claimed_frame_decodes(container: av.container.InputContainer, stream: av.VideoStream,
                                first_pts: int, claimed: int, fps: float) -> bool:
    """Seek to the last claimed frame and check that it decodes and nothing comes after it."""
    tb = float(stream.time_base)
    step = 1.0 / (fps * tb)
    estimate = int(first_pts + (claimed - 1) * step)
    try:
        container.seek(estimate, backward=True, any_frame=False, stream=stream)
    except av.error.FFmpegError:
        return False
    stream.codec_context.flush_buffers()
    packets = []
    it = container.demux(stream)
    try:
        for packet in it:
            if packet.size == 0:
                continue
            if packet.is_corrupt or packet.pts is None:
                return False
            packets.append(packet)
    except av.error.FFmpegError:
        return False
    if not packets:
        return False
    last_pts = max(pk.pts for pk in packets)
    if round((last_pts - first_pts) / step) != claimed - 1:
        return False
    ctx = stream.codec_context
    skip = ctx.name in NONREF_SKIP_CODECS

    def feed():
        for pk in packets:
            if skip:
                ctx.skip_frame = "DEFAULT" if pk.pts == last_pts or pk.is_keyframe else "NONREF"
            yield pk

    try:
        seen_last = False
        for frame in decode_packets(stream, feed()):
            if frame.pts is not None and frame.pts > last_pts:
                return False
            seen_last = seen_last or frame.pts == last_pts
        return seen_last
    finally:
        if skip:
            ctx.skip_frame = "DEFAULT"
