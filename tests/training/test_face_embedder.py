"""The shipped face embedder: its files match their checksums, the ONNX port reproduces face-api's own descriptors
recorded at conversion, and a damaged file is refused; the slow test rebuilds it from the npm package."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bloomwell_ml.face_embedding import EMBEDDER_DIR, EMBEDDER_PATH, EmbedderUnavailable, FaceEmbedder, unit
from scripts.convert_face_embedder import PARITY_TOL, parity_inputs


def test_shipped_files_match_their_checksums() -> None:
    for line in (EMBEDDER_DIR / "SHA256SUMS").read_text().splitlines():
        digest, file = line.split()
        assert hashlib.sha256((EMBEDDER_DIR / file).read_bytes()).hexdigest() == digest, file
    assert "MIT License" in (EMBEDDER_DIR / "LICENSE").read_text()


def test_port_matches_face_api(data_root: Path) -> None:
    record = json.loads((EMBEDDER_DIR / "parity.json").read_text())
    names, images = parity_inputs(data_root)
    assert names == record["inputs"]  # every recorded input was rebuilt
    reference = np.asarray(record["reference_descriptors"], dtype=np.float32)
    got = FaceEmbedder().embed(images)
    assert got.shape == (len(names), 128)
    assert np.abs(got - reference).max() <= PARITY_TOL
    similarity = unit(reference) @ unit(reference).T
    assert similarity[np.triu_indices(len(names), 1)].min() < 0.99  # not a constant output


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    data = bytearray(EMBEDDER_PATH.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    shutil.copyfile(EMBEDDER_DIR / "SHA256SUMS", tmp_path / "SHA256SUMS")
    with pytest.raises(EmbedderUnavailable, match="SHA-256"):
        FaceEmbedder(copy)
    with pytest.raises(EmbedderUnavailable, match="missing"):
        FaceEmbedder(tmp_path / "absent.onnx")


def test_embed_checks_the_input_shape() -> None:
    embedder = FaceEmbedder()
    assert embedder.embed(np.zeros((0, 150, 150, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match="150"):
        embedder.embed(np.zeros((1, 112, 112, 3), np.uint8))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="needs npm and node")
def test_rebuild_from_the_npm_package(tmp_path: Path, data_root: Path) -> None:
    from scripts.convert_face_embedder import main

    main(["--out", str(tmp_path), "--data-root", str(data_root)])
    rec = json.loads((tmp_path / "parity.json").read_text())
    assert rec["max_abs_diff"] <= PARITY_TOL
    assert hashlib.sha256((tmp_path / "model.onnx").read_bytes()).hexdigest() == \
        hashlib.sha256(EMBEDDER_PATH.read_bytes()).hexdigest()  # the build is reproducible
    shipped = json.loads((EMBEDDER_DIR / "parity.json").read_text())
    np.testing.assert_allclose(rec["reference_descriptors"], shipped["reference_descriptors"], atol=1e-6)
