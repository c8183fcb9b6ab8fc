"""Re-identification, as pure logic: which tracks become one person, and which faces a track is described by."""

from __future__ import annotations

import numpy as np
import pytest

from bloomwell_ml.face_embedding import unit
from services.inference_worker.reid import FaceSampler, merge_tracks, track_descriptor, track_frames


def vec(*values: float) -> np.ndarray:
    return unit(np.array(values, dtype=np.float32))


def test_tracks_of_one_person_across_a_cut_merge_under_the_first_appearing_track() -> None:
    frames = {4: {0, 1, 2}, 9: {5, 6, 7}, 2: {10, 11}}
    descriptors = {4: vec(1, 0, 0), 9: vec(1, 0.05, 0), 2: vec(0.99, 0.02, 0)}
    assert merge_tracks(frames, descriptors, 0.95) == {4: 4, 9: 4, 2: 4}


def test_tracks_seen_in_the_same_frame_are_never_one_person() -> None:
    frames = {1: {0, 1, 2}, 2: {2, 3}}
    same_face = {1: vec(1, 0), 2: vec(1, 0)}
    assert merge_tracks(frames, same_face, 0.9) == {1: 1, 2: 2}


def test_below_the_threshold_tracks_stay_apart_and_tracks_without_a_descriptor_stay_alone() -> None:
    frames = {1: {0}, 2: {1}, 3: {2}}
    descriptors = {1: vec(1, 0), 2: vec(0.9, 0.43)}  # cosine 0.9
    assert merge_tracks(frames, descriptors, 0.95) == {1: 1, 2: 2, 3: 3}
    assert merge_tracks(frames, descriptors, 0.85) == {1: 1, 2: 1, 3: 3}


def test_complete_linkage_does_not_chain_two_people_through_a_look_alike() -> None:
    # a ~ b and b ~ c above the threshold, a and c far apart: b joins the closer one, c stays apart.
    frames = {1: {0}, 2: {1}, 3: {2}}
    a, c = vec(1, 0), vec(0.80, 0.60)  # cosine(a, c) = 0.80
    b = unit(a + c)  # cosine 0.95 to both
    pairs = {1: a, 2: unit(b + 0.01 * a), 3: c}
    person = merge_tracks(frames, pairs, 0.94)
    assert person[2] == person[1] == 1 and person[3] == 3


def test_a_merged_group_keeps_its_frames_so_a_later_co_occurring_track_stays_apart() -> None:
    # 1 and 2 merge (frames 0 and 5); 3 co-occurs with 2 at frame 5 and cannot join the group even if close to 1.
    frames = {1: {0}, 2: {5}, 3: {5, 6}}
    descriptors = {1: vec(1, 0), 2: vec(1, 0.01), 3: vec(1, 0.02)}
    person = merge_tracks(frames, descriptors, 0.9)
    assert person[1] == person[2] == 1 and person[3] == 3


def test_track_frames_and_descriptors() -> None:
    assert track_frames([[1, None], [1, 2], [], [None, 2]]) == {1: {0, 1}, 2: {1, 3}}
    d = track_descriptor(np.stack([vec(1, 0), vec(0, 1)]))
    assert np.allclose(d, vec(1, 1)) and np.linalg.norm(d) == pytest.approx(1.0)


class RecordingEmbedder:
    """Stands in for the network where only the bookkeeping is tested: the descriptor is the image's mean RGB."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, images: np.ndarray) -> np.ndarray:
        self.calls.append(len(images))
        return np.asarray(images, dtype=np.float32).mean(axis=(1, 2))


def test_the_sampler_keeps_the_clearest_faces_per_track_and_crops_only_those() -> None:
    sampler = FaceSampler(per_track=2)
    cropped: list[tuple[int, float]] = []

    def crop(track: int, clarity: float, colour: tuple[int, int, int]) -> np.ndarray:
        def make() -> np.ndarray:
            cropped.append((track, clarity))
            return np.full((150, 150, 3), colour, np.uint8)
        return make

    sampler.offer(1, 5.0, crop(1, 5.0, (255, 0, 0)))
    sampler.offer(1, 9.0, crop(1, 9.0, (255, 0, 0)))
    sampler.offer(1, 1.0, crop(1, 1.0, (0, 0, 255)))  # less clear than both kept: never cropped
    sampler.offer(1, 7.0, crop(1, 7.0, (255, 0, 0)))  # replaces the 5.0 face
    sampler.offer(2, 3.0, crop(2, 3.0, (0, 255, 0)))
    assert (1, 1.0) not in cropped and len(cropped) == 4
    embedder = RecordingEmbedder()
    faces = sampler.face_descriptors(embedder)  # type: ignore[arg-type]
    assert embedder.calls == [3]  # one call for every kept face of every track
    assert faces[1].shape == (2, 3) and faces[2].shape == (1, 3)
    assert np.allclose(faces[1], vec(1, 0, 0)) and np.allclose(faces[2], vec(0, 1, 0))
    assert FaceSampler(per_track=0).face_descriptors(embedder) == {}  # type: ignore[arg-type]


def test_the_threshold_is_chosen_in_the_widest_gap_with_the_fewest_errors() -> None:
    from scripts.measure_reid import choose_threshold

    assert choose_threshold([0.96, 0.99], [0.80, 0.90]) == 0.93  # separated: midway
    # overlapping: a wrong merge costs two, a missed one one — the threshold leaves the 0.95 same-person pair out
    # rather than let the 0.955 different-person pair in
    assert choose_threshold([0.95, 0.97, 0.99], [0.85, 0.955]) == pytest.approx(0.9625, abs=1e-3)
