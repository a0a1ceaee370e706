"""Video and webcam IO with PyAV: decode frames, encode stylized frames, remux the audio untouched."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from strotss.errors import InputError, UserError
from strotss.imageio import atomic_output

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".webm": "webm"}
CODECS = {"webm": ("libvpx-vp9", "libvpx"), "avi": ("mpeg4",)}
DEFAULT_CODECS = ("libx264", "libopenh264", "mpeg4")

FrameFn = Callable[[list[np.ndarray]], list[np.ndarray]]


def is_video(path: str | os.PathLike) -> bool:
    """True for file names with a common video container suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _open_input(path: str | os.PathLike, **kwargs):
    """av.open for reading with a UserError for missing or undecodable files."""
    import av

    try:
        return av.open(str(path), **kwargs)
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{path}: cannot open as video ({exc.strerror or exc}); use an MP4/MKV/MOV/WebM file"
                         ) from None


def _decoded(inp: Any, streams: list, src: str | os.PathLike) -> Iterator[tuple[Any, list]]:
    """Demux and decode inp, yielding (packet, decoded video frames); InputError where the data is corrupt."""
    import av

    packets = inp.demux(*streams)
    frames_so_far = 0
    while True:
        try:
            packet = next(packets, None)
            if packet is None:
                return
            frames = [] if packet.stream.type == "audio" else packet.decode()
        except av.error.FFmpegError as exc:
            raise InputError(f"{src}: corrupt video data after frame {frames_so_far} ({exc.strerror or exc}); "
                             "re-encode or replace the file") from None
        frames_so_far += len(frames)
        yield packet, frames


def _add_video_stream(out, container_format: str, rate: Fraction, width: int, height: int):
    """Add the first encoder that this FFmpeg build has for the container, at an even frame size."""
    import av

    for codec in CODECS.get(container_format, DEFAULT_CODECS):
        try:
            stream = out.add_stream(codec, rate=rate)
        except (av.error.FFmpegError, ValueError):
            continue
        stream.width, stream.height, stream.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
        return stream
    raise UserError(f"no video encoder for {container_format} in this PyAV build; write .mp4 instead")


def stylize_video(src: str | os.PathLike, dst: str | os.PathLike, fn: FrameFn, *, batch: int = 1,
                  progress: Callable[[int], None] = lambda n: None) -> int:
    """Stylize every frame of src into dst (same frame count, rate and size); audio is remuxed."""
    import av

    dst = Path(dst)
    fmt = CONTAINER_FORMATS.get(dst.suffix.lower())
    if fmt is None:
        raise UserError(f"{dst}: unknown video suffix; use one of {', '.join(CONTAINER_FORMATS)}")
    written = 0
    with _open_input(src) as inp:
        if not inp.streams.video:
            raise InputError(f"{src}: has no video stream")
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        if min(vin.height, vin.width) < 2:
            raise InputError(f"{src}: {vin.width}×{vin.height} px frames are too small for a video encoder (at "
                             "least 2×2 px); use a larger video")
        with atomic_output(dst) as fh, av.open(fh, "w", format=fmt) as out:
            vout = _add_video_stream(out, fmt, rate, vin.width, vin.height)
            aout = None
            if ain is not None:
                try:
                    aout = out.add_stream_from_template(ain)
                except (av.error.FFmpegError, ValueError):
                    aout = None  # the container cannot hold this audio codec: the video is written silent
            streams = [vin] + ([ain] if aout is not None else [])

            def encode(frames: list[np.ndarray]) -> None:
                nonlocal written
                for img in fn(frames):
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[: vout.height, : vout.width]),
                                                       format="rgb24")
                    out.mux(vout.encode(frame))
                    written += 1
                progress(len(frames))

            pending: list[np.ndarray] = []
            for packet, decoded in _decoded(inp, streams, src):
                if packet.stream.type == "audio":
                    if packet.dts is not None:
                        packet.stream = aout
                        out.mux(packet)
                    continue
                for frame in decoded:
                    pending.append(frame.to_ndarray(format="rgb24"))
                    if len(pending) == batch:
                        encode(pending)
                        pending = []
            if pending:
                encode(pending)
            if not written:
                raise InputError(f"{src}: no decodable video frames")
            out.mux(vout.encode(None))
    return written


def webcam_frames(device: str = "/dev/video0") -> Iterator[np.ndarray]:
    """Open a V4L2 camera now (UserError when there is none) and return an iterator over its RGB frames."""
    if not Path(device).exists():
        raise UserError(f"{device}: no camera found; connect one or pass --camera /dev/videoN")
    cam = _open_input(device, format="v4l2")

    def frames() -> Iterator[np.ndarray]:
        with cam:
            for frame in cam.decode(video=0):
                yield frame.to_ndarray(format="rgb24")

    return frames()


def write_stream(frames: Iterator[np.ndarray], dst: str | os.PathLike, fps: float = 25.0) -> int:
    """Encode an open-ended frame iterator (e.g. a stylized webcam) into a video file; Ctrl+C ends it cleanly."""
    import av

    dst = Path(dst)
    fmt = CONTAINER_FORMATS.get(dst.suffix.lower(), "mp4")
    written = 0
    with atomic_output(dst) as fh, av.open(fh, "w", format=fmt) as out:
        vout = None
        try:
            for img in frames:
                if vout is None:
                    vout = _add_video_stream(out, fmt, Fraction(fps).limit_denominator(1001), img.shape[1], img.shape[0])
                out.mux(vout.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img[: vout.height, : vout.width]),
                                                                format="rgb24")))
                written += 1
        except KeyboardInterrupt:
            pass
        if vout is not None:
            out.mux(vout.encode(None))
    return written
