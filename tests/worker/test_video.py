"""services.common.video: container sniffing, probing and straight-through decoding."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from services.common import video
from services.common.video import (
    FramesTooLarge,
    UndecodableVideo,
    UnsupportedContainer,
    decode_frames,
    probe_video,
    sniff_container,
    sniff_file,
)
from tests.worker.conftest import shared_video, write_video

EBML_WEBM = bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878102")
EBML_MKV = bytes.fromhex("1a45dfa3a34286810142f7810142f2810442f381084282886d617472") + b"oska"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "mov"),
        (b"\x00\x00\x00\x08wide\x00\x00\x01\xe8mdat", "mov"),
        (EBML_WEBM, "webm"),
        (EBML_MKV, "mkv"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", "avi"),
        (b"RIFF\x00\x10\x00\x00WAVEfmt ", None),
        (b"hello, this is a text file pretending to be a video", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (b"", None),
        (b"\x1a\x45\xdf\xa3", "mkv"),
    ],
)
def test_sniff_container(head: bytes, expected: str | None) -> None:
    assert sniff_container(head) == expected


@pytest.mark.parametrize(
    ("suffix", "fourcc", "container"),
    [(".mp4", "mp4v", "mp4"), (".avi", "MJPG", "avi"), (".mkv", "MJPG", "mkv"), (".webm", "VP80", "webm"),
     (".mov", "mp4v", "mov")],
)
def test_probe_written_videos(tmp_path: Path, suffix: str, fourcc: str, container: str) -> None:
    path = write_video(tmp_path / f"v{suffix}", frames=20, fps=10.0, size=(160, 120), fourcc=fourcc)
    assert sniff_file(path) == container
    info = probe_video(path)
    assert info.container == container
    assert (info.width, info.height) == (160, 120)
    assert info.frame_count_read == 20
    assert info.duration_s == pytest.approx(2.0, abs=0.11)
    assert info.complete


def test_probe_real_video() -> None:
    info = probe_video(shared_video("fer_test.mp4"))
    assert info.container == "mp4"
    assert info.frame_count_read == 115
    assert info.duration_s == pytest.approx(4.6, abs=0.1)
    assert (info.width, info.height) == (596, 336)


def test_probe_stops_past_max_duration() -> None:
    info = probe_video(shared_video("fer_woman2.mp4"), max_duration_s=3.0)
    assert not info.complete
    assert 3.0 < info.duration_s < 3.2
    assert info.frame_count_read < 100


def test_text_file_named_mp4_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(UnsupportedContainer, match="not a video format"):
        probe_video(path)


def test_truncated_video_is_undecodable(tmp_path: Path) -> None:
    source = write_video(tmp_path / "full.mp4", frames=30)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(source.read_bytes()[:600])  # header survives, moov/mdat are cut
    assert sniff_file(truncated) == "mp4"
    with pytest.raises(UndecodableVideo):
        probe_video(truncated)


def test_garbage_after_valid_header_is_undecodable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.webm"
    path.write_bytes(EBML_WEBM + bytes(range(256)) * 40)
    with pytest.raises(UndecodableVideo):
        probe_video(path)


def test_decode_frames_keeps_only_selected_frames_with_timestamps(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.avi", frames=20, fps=10.0, fourcc="MJPG")
    kept = list(decode_frames(path, lambda t: round(t * 10) % 5 == 0))
    assert [f.index for f in kept] == [0, 5, 10, 15]
    assert [f.t for f in kept] == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=1e-3)
    assert all(f.image.shape == (120, 160, 3) for f in kept)


def test_decode_frames_honours_max_duration(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", frames=30, fps=10.0)
    kept = list(decode_frames(path, lambda t: True, max_duration_s=1.0))
    assert len(kept) == 11  # t = 0.0 … 1.0
    assert kept[-1].t == pytest.approx(1.0, abs=1e-3)


def test_decode_frames_shrinks_frames_over_the_pixel_limit(tmp_path: Path) -> None:
    path = write_video(tmp_path / "big.mp4", frames=6, fps=10.0, size=(160, 120))
    frames = list(decode_frames(path, lambda t: True, max_pixels=40 * 30))
    assert frames and all(f.image.shape[0] * f.image.shape[1] <= 40 * 30 for f in frames)
    assert all(abs(f.scale - 0.25) < 0.01 for f in frames)
    untouched = list(decode_frames(path, lambda t: True))
    assert all(f.image.shape == (120, 160, 3) and f.scale == 1.0 for f in untouched)


def test_probe_refuses_frames_over_the_pixel_limit(tmp_path: Path) -> None:
    path = write_video(tmp_path / "big.mp4", frames=6, fps=10.0, size=(160, 120))
    with pytest.raises(FramesTooLarge) as refused:
        probe_video(path, max_pixels=100 * 100)
    assert (refused.value.width, refused.value.height) == (160, 120)
    assert probe_video(path, max_pixels=160 * 120).width == 160


@pytest.mark.parametrize("name", ["fer_woman2.mp4", "fer_test.mp4", "faceapijs_test_video.mp4",
                                  "huimiang_1543684773_neutral_to_angry.avi"])
def test_probe_from_packets_measures_what_decoding_measures(name: str) -> None:
    """The upload check reads packets' timestamps instead of decoding every frame (B-frames come out of order): the
    same frame count and duration as decoding straight through; stopped by the duration limit, both are over it."""
    path = shared_video(name)
    fps = video._nominal_fps(cv2.VideoCapture(str(path)))
    packets, decoded = video._packet_span(path, None), video._decoded_span(path, fps, None)
    assert packets is not None and packets.complete and decoded.complete
    assert packets.count == decoded.count
    assert packets.last_t == pytest.approx(decoded.last_t, abs=1e-3)
    limit = decoded.last_t / 2
    packets, decoded = video._packet_span(path, limit), video._decoded_span(path, fps, limit)
    assert packets is not None and not packets.complete and not decoded.complete
    assert packets.last_t > limit and decoded.last_t > limit


@pytest.mark.parametrize(("suffix", "fourcc"), [(".mp4", "mp4v"), (".webm", "VP80"), (".avi", "MJPG")])
def test_probe_decodes_when_packets_carry_no_timestamps(tmp_path: Path, suffix: str, fourcc: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / f"v{suffix}", frames=20, fps=10.0, fourcc=fourcc)
    from_packets = probe_video(path)
    monkeypatch.setattr(video, "_packet_span", lambda *_: None)
    assert probe_video(path) == from_packets
    assert from_packets.frame_count_read == 20 and from_packets.duration_s == pytest.approx(2.0, abs=0.01)
