"""Label mapping of every reader onto angry, disgust, fear, happy, neutral, sad, surprise."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from bloomwell_ml.labels import EMOTIONS
from training.data.dataset import CombinedDataset, ImageDataset, stratified_split
from training.data.labels import name_to_index
from training.data.readers import Sample, read_affectnet, read_fer2013, read_folder, read_rafdb, relabel_ferplus


def _write_csv(path: Path, rows: list[tuple[str, int]]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label"])
        w.writerows(rows)
    return path


def test_fer2013_folder_labels_match_class_folders(data_root: Path) -> None:
    samples = read_fer2013(data_root / "fer2013", "test")
    counts = Counter(EMOTIONS[s.label] for s in samples)
    assert counts == {"angry": 958, "disgust": 111, "fear": 1024, "happy": 1774, "neutral": 1233, "sad": 1247,
                      "surprise": 831}
    assert all(s.path.parent.name == EMOTIONS[s.label] for s in samples[::50])


def test_ckplus_drops_contempt_and_maps_names(data_root: Path) -> None:
    samples = read_folder(data_root / "ckplus48", "all")
    counts = Counter(EMOTIONS[s.label] for s in samples)
    assert "contempt" not in {s.path.parent.name for s in samples}
    assert counts["happy"] == 207 and counts["surprise"] == 249 and counts["neutral"] == 0


def test_alias_names() -> None:
    assert name_to_index("Anger") == EMOTIONS.index("angry")
    assert name_to_index("happiness") == EMOTIONS.index("happy")
    assert name_to_index("contempt") is None


def test_rafdb_labels(tmp_path: Path) -> None:
    # RAF-DB basic: 1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness, 6 anger, 7 neutral
    rows = [(f"img_{k}.jpg", k) for k in range(1, 8)]
    samples = read_rafdb(_write_csv(tmp_path / "raf.csv", rows), tmp_path)
    assert [EMOTIONS[s.label] for s in samples] == ["surprise", "fear", "disgust", "happy", "sad", "angry",
                                                    "neutral"]
    assert samples[0].path == tmp_path / "img_1.jpg"


def test_affectnet_labels_drop_contempt(tmp_path: Path) -> None:
    rows = [(f"a{k}.png", k) for k in range(8)]
    samples = read_affectnet(_write_csv(tmp_path / "aff.csv", rows), tmp_path)
    assert [EMOTIONS[s.label] for s in samples] == ["neutral", "happy", "sad", "surprise", "fear", "disgust",
                                                    "angry"]


def test_ferplus_relabel(data_root: Path) -> None:
    fer = data_root / "fer2013"
    samples = read_fer2013(fer, "train")[:300]
    relabelled = relabel_ferplus(samples, data_root / "fer2013_meta" / "msambare_to_ferplus.csv", fer)
    assert 0 < len(relabelled) <= len(samples)
    assert any(a.label != b.label for a, b in zip(samples, relabelled, strict=False))


def test_stratified_split_and_combined_weights(data_root: Path, tmp_path: Path) -> None:
    samples = read_fer2013(data_root / "fer2013", "test")
    train, val = stratified_split(samples, 0.1, seed=1)
    assert len(train) + len(val) == len(samples) and not {s.path for s in train} & {s.path for s in val}
    assert Counter(s.label for s in val)[EMOTIONS.index("disgust")] == 11
    a = ImageDataset(val[:20], 48)
    b = ImageDataset([Sample(s.path, s.label) for s in val[20:30]], 48)
    mix = CombinedDataset([a, b], [1.0, 3.0])
    assert len(mix) == 30 and mix[25][0].shape == (3, 48, 48)
    assert abs(float(mix.sample_weights[20:].sum()) - 3 * float(mix.sample_weights[:20].sum())) < 1e-9
