"""From the `data` section of a training config to the training mix and the validation set.

Each source's train split gives up a stratified, seeded validation share (FER2013's is the split every 2.x model
was trained without). Two source options keep evaluation honest:

* ``dedup`` (FER2013): after the split, train drops every byte-identical copy of a test or validation image, every
  member of a duplicate group with conflicting labels, and all but one copy of the other groups
  (``fer2013_meta/byte_identical_duplicate_groups.csv``).
* ``type: ckplus``: CK+ is split by subject (``S###``) into ``n_folds`` folds (:func:`subject_folds`, the folds the
  robustness suite reports); the run trains on every fold but ``fold`` and validates on nothing from CK+ (the held-out
  fold is the test of that run, never used for choices).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from bloomwell_ml.spec import ModelSpec
from training.config import SourceConfig, TrainConfig, resolve_path
from training.data.dataset import CombinedDataset, ImageDataset, stratified_split
from training.data.readers import Sample, read_folder, read_source, relabel_ferplus

CKPLUS_FOLD_SEED = 0
DUPLICATES_CSV = Path("fer2013_meta") / "byte_identical_duplicate_groups.csv"
_SUBJECT = re.compile(r"^(S\d+)_")


def subject_of(path: Path) -> str:
    """The CK+ subject id (``S005``) of a file named ``S005_001_00000011.png``."""
    m = _SUBJECT.match(path.name)
    if m is None:
        raise ValueError(f"{path.name}: not a CK+ file name (S###_###_########)")
    return m.group(1)


def subject_folds(samples: Sequence[Sample], n_folds: int = 5, seed: int = CKPLUS_FOLD_SEED) -> list[int]:
    """The fold (0 … n_folds-1) of each sample: subjects are shuffled with ``seed`` and dealt round-robin, so all
    frames of a subject share one fold and fold sizes differ by at most one subject."""
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    subjects = sorted({subject_of(s.path) for s in samples})
    order = np.random.default_rng(seed).permutation(len(subjects))
    fold_of = {subjects[i]: rank % n_folds for rank, i in enumerate(order)}
    return [fold_of[subject_of(s.path)] for s in samples]


def _duplicate_groups(data_root: Path) -> list[tuple[list[str], bool]]:
    path = data_root / DUPLICATES_CSV
    if not path.is_file():
        raise FileNotFoundError(f"dedup needs {path}")
    with open(path, newline="") as f:
        return [(row["files"].split(";"), row["labels_conflict"] == "True") for row in csv.DictReader(f)]


def deduplicate(train: Sequence[Sample], held_out: Sequence[Sample], fer_root: Path, data_root: Path) -> list[Sample]:
    """FER2013 train without copies of held-out (test or validation) images, without conflicting groups and with
    one copy per remaining group (the first in file order)."""
    root = fer_root.resolve()

    def rel(s: Sample) -> str:
        return s.path.resolve().relative_to(root).as_posix()

    held = {rel(s) for s in held_out}
    drop: set[str] = set()
    for files, conflict in _duplicate_groups(data_root):
        train_files = sorted(f for f in files if f.startswith("train/") and f not in held)
        if conflict or any(f.startswith("test/") or f in held for f in files):
            drop.update(train_files)
        else:
            drop.update(train_files[1:])
    return [s for s in train if rel(s) not in drop]


def _subsample(samples: list[Sample], n: int | None, seed: int) -> list[Sample]:
    if not n or n >= len(samples):
        return samples
    idx = np.random.default_rng(seed).permutation(len(samples))[:n]
    return [samples[i] for i in sorted(idx)]


def source_split(src: SourceConfig, val_fraction: float, seed: int, data_root: Path) -> tuple[list[Sample],
                                                                                            list[Sample]]:
    """(train, validation) samples of one source."""
    if src.type == "ckplus":
        if src.fold is None:
            raise ValueError("a ckplus source needs `fold` (the held-out subject fold of this run)")
        samples = read_folder(str(src.root), src.split or "all")
        folds = subject_folds(samples, src.n_folds)
        return [s for s, k in zip(samples, folds, strict=True) if k != src.fold], []
    samples = read_source(src.model_dump(), "train")
    train, val = stratified_split(samples, val_fraction, seed) if val_fraction else (samples, [])
    if src.dedup:
        test = read_folder(str(src.root), "test")
        train = deduplicate(train, [*val, *test], Path(str(src.root)), data_root)
    if src.ferplus_labels:
        train = relabel_ferplus(train, src.ferplus_labels, str(src.root))
    return train, val


def training_sets(cfg: TrainConfig, spec: ModelSpec) -> tuple[CombinedDataset, ImageDataset]:
    """The weighted training mix and the validation set of ``cfg`` (images decoded once, cached)."""
    d = cfg.data
    seed = d.split_seed if d.split_seed is not None else cfg.seed
    cache = resolve_path(d.cache_dir) if d.cache_dir else None
    dataset = partial(ImageDataset, size=spec.image_size, grayscale=spec.grayscale, in_chans=spec.in_chans,
                      face_crop=d.face_crop, cache_dir=cache)
    data_root = Path(str(d.root))
    train_sets, weights, val_samples = [], [], []
    for src in d.train_sources:
        train, val = source_split(src, d.val_fraction, seed, data_root)
        train_sets.append(dataset(_subsample(train, d.max_train_samples, seed)))
        weights.append(src.weight)
        val_samples += val
    val_set = dataset(_subsample(val_samples, d.max_val_samples, seed))
    return CombinedDataset(train_sets, weights), val_set
