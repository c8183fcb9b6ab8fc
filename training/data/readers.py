"""Readers: each turns one dataset layout into a list of `Sample(path, label)` in Bloomwell's label space."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from training.data.labels import AFFECTNET_TO_LABEL, LABEL_TO_INDEX, RAFDB_TO_LABEL, name_to_index

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass(frozen=True)
class Sample:
    """One labelled image file."""

    path: Path
    label: int


def read_gray(path: str | Path) -> np.ndarray:
    """One image file as a gray uint8 array; :class:`OSError` when it cannot be read (OpenCV returns None)."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return image


def read_folder(root: str | Path, split: str | None = None) -> list[Sample]:
    """`<root>/[<split>/]<class>/*.png|jpg` (FER2013, CK+, any "wild" set). Unknown/dropped classes are skipped."""
    base = Path(root) / split if split else Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"no such dataset folder: {base}")
    samples = []
    for class_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            label = name_to_index(class_dir.name)
        except KeyError:
            continue
        if label is None:
            continue
        samples += [Sample(p, label) for p in sorted(class_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTS]
    return samples


def read_fer2013(root: str | Path, split: str = "train") -> list[Sample]:
    """FER2013 in the folder layout (`<root>/<split>/<class>/*.jpg`)."""
    return read_folder(root, split)


def _read_csv(csv_path: str | Path, image_dir: str | Path, to_label: Mapping[int, str | None]) -> list[Sample]:
    """CSV `image,label` with the dataset's integer class ids; ids that ``to_label`` maps to None are dropped."""
    image_dir = Path(image_dir)
    samples = []
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            label = to_label[int(row["label"])]
            if label is not None:
                samples.append(Sample(image_dir / row["image"], LABEL_TO_INDEX[label]))
    return samples


def read_rafdb(csv_path: str | Path, image_dir: str | Path) -> list[Sample]:
    """RAF-DB basic: CSV `image,label` with labels 1..7 (surprise, fear, disgust, happy, sad, angry, neutral)."""
    return _read_csv(csv_path, image_dir, RAFDB_TO_LABEL)


def read_affectnet(csv_path: str | Path, image_dir: str | Path) -> list[Sample]:
    """AffectNet: CSV `image,label` with the 8-class ids 0..7 (contempt = 7 is dropped)."""
    return _read_csv(csv_path, image_dir, AFFECTNET_TO_LABEL)


def relabel_ferplus(samples: list[Sample], mapping_csv: str | Path, fer_root: str | Path) -> list[Sample]:
    """Replace FER2013 labels with FER+ majority labels; drops images without a 7-class FER+ majority."""
    root = Path(fer_root).resolve()
    majority: dict[str, str] = {}
    with open(mapping_csv, newline="") as f:
        for row in csv.DictReader(f):
            majority[row["fer2013_path"]] = row["ferplus_majority_label"]
    out = []
    for s in samples:
        label = majority.get(s.path.resolve().relative_to(root).as_posix(), "")
        if label in LABEL_TO_INDEX:
            out.append(Sample(s.path, LABEL_TO_INDEX[label]))
    return out


def read_source(cfg: dict[str, Any], split: str) -> list[Sample]:
    """Dispatch on a source config `{type: fer2013|folder|rafdb|affectnet, ...}`."""
    kind = cfg["type"]
    if kind in ("fer2013", "folder"):
        return read_folder(cfg["root"], cfg.get("split") or split)
    if kind == "rafdb":
        return read_rafdb(cfg["csv"], cfg["images"])
    if kind == "affectnet":
        return read_affectnet(cfg["csv"], cfg["images"])
    raise ValueError(f"unknown source type {kind!r}")
