"""The suite's pure parts with known answers: ensembles of probabilities, CK+ subject folds and their report, and
FER2013 train deduplication."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.calibration import nll, view_probs
from training.data.readers import Sample
from training.data.sources import deduplicate, subject_folds, subject_of
from training.robustness import available_kinds, suite_report
from training.suite import N_FOLDS, ckplus_folds, combine, fit_temperatures


def test_combine_averages_calibrated_probabilities() -> None:
    a = np.log(np.array([[[0.7, 0.3] + [1e-9] * 5]], np.float32))  # (V=1, N=1, K=7)
    b = np.log(np.array([[[0.1, 0.9] + [1e-9] * 5]], np.float32))
    members = {"a": {"s": {"logits": a, "labels": np.array([0]), "seconds": np.array(1.0)}},
               "b": {"s": {"logits": b, "labels": np.array([0]), "seconds": np.array(2.0)}}}
    ens = combine(members, {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0})["s"]
    np.testing.assert_allclose(np.exp(ens["logits"][0, 0, :2]), [0.4, 0.6], atol=1e-5)
    assert float(ens["seconds"]) == 3.0 and ens["labels"].tolist() == [0]
    only_a = combine(members, {"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 1.0})["s"]
    np.testing.assert_allclose(np.exp(only_a["logits"][0, 0, :2]), [0.7, 0.3], atol=1e-5)


def test_an_ensemble_is_calibrated_after_mixing_on_validation() -> None:
    """The ensemble's temperature per TTA kind minimises the validation NLL of the mixture (an over-confident
    mixture gets T > 1), and a set holding two views reports the none and flip kinds only."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 600)
    logits = rng.normal(0, 1, (5, 600, 7)).astype(np.float32)
    logits[:, np.arange(600), labels] += 1.5
    logits *= 4  # over-confident
    mixed = {"fer2013_val": {"logits": logits, "labels": labels, "seconds": np.array(1.0)}}
    temps = fit_temperatures(mixed)
    assert set(temps) == {"none", "flip", "five"} and temps["none"] > 1.5
    best = nll(view_probs(logits[:1], temps["none"]), labels)
    for t in (temps["none"] * 0.8, temps["none"] * 1.25):
        assert nll(view_probs(logits[:1], t), labels) > best
    two = {"fer2013_test": {"logits": logits[:2], "labels": labels, "seconds": np.array(1.0)}}
    assert available_kinds(logits[:2]) == ["none", "flip"]
    rep = suite_report(two, [str(i) for i in range(7)], temps)["sets"]["fer2013_test"]
    assert set(rep) == {"none", "flip"}
    assert rep["none"]["calibrated"]["ece"] < rep["none"]["uncalibrated"]["ece"]


def _ck(subject: int, label: int, frame: int) -> Sample:
    return Sample(Path(f"/x/S{subject:03d}_001_{frame:08d}.png"), label)


def test_subject_folds_never_split_a_subject_and_are_balanced() -> None:
    samples = [_ck(s, s % 6, f) for s in range(1, 24) for f in range(3)]
    folds = subject_folds(samples, 5)
    by_subject: dict[str, set[int]] = {}
    for s, k in zip(samples, folds, strict=True):
        by_subject.setdefault(subject_of(s.path), set()).add(k)
    assert all(len(v) == 1 for v in by_subject.values())
    sizes = np.bincount([next(iter(v)) for v in by_subject.values()], minlength=5)
    assert sizes.max() - sizes.min() <= 1 and folds == subject_folds(samples, 5)
    with pytest.raises(ValueError, match="S###"):
        subject_of(Path("face.png"))


def test_ckplus_fold_report() -> None:
    labels = np.array([0, 0, 1, 1, 3] * N_FOLDS)
    folds = np.repeat(np.arange(N_FOLDS), 5)
    pred = labels.copy()
    pred[0] = 4  # one angry face read as neutral, in fold 0
    logits = np.eye(7)[pred][None]
    rep = ckplus_folds(logits, labels, folds)
    assert rep["folds"][0]["accuracy"] == 0.8 and rep["folds"][1]["accuracy"] == 1.0
    assert rep["angry_recall"] == 0.9 and rep["disgust_recall"] == 1.0 and rep["accuracy"] == 24 / 25


def test_dedup_drops_test_copies_conflicts_and_repeats(tmp_path: Path) -> None:
    root = tmp_path / "fer2013"
    meta = tmp_path / "fer2013_meta"
    meta.mkdir(parents=True)
    (meta / "byte_identical_duplicate_groups.csv").write_text(
        "md5,n_files,files,labels_conflict\n"
        "a,2,test/angry/T1.jpg;train/angry/A1.jpg,False\n"
        "b,2,train/happy/H1.jpg;train/sad/S1.jpg,True\n"
        "c,3,train/fear/F1.jpg;train/fear/F2.jpg;train/fear/F3.jpg,False\n"
        "d,2,train/sad/S2.jpg;train/sad/S3.jpg,False\n")
    train = [Sample(root / f"train/{p}.jpg", 0) for p in
             ("angry/A1", "angry/A2", "happy/H1", "sad/S1", "fear/F1", "fear/F2", "fear/F3", "sad/S2", "sad/S3")]
    val = [Sample(root / "train/sad/S3.jpg", 0)]
    kept = deduplicate([s for s in train if s not in val], val, root, tmp_path)
    assert sorted(s.path.stem for s in kept) == ["A2", "F1"]
