"""The typed training config: defaults, presets, overrides, and refusal of unknown keys or wrong types."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import DEFAULTS, REPO_ROOT, ConfigError, TrainConfig, load_config

CONFIGS = REPO_ROOT / "training" / "configs"


def test_every_preset_validates() -> None:
    presets = sorted(CONFIGS.glob("*.yaml")) + sorted((CONFIGS / "history").glob("*.yaml"))
    assert len(presets) >= 12
    for path in presets:
        assert isinstance(load_config(path), TrainConfig), path


def test_unknown_key_in_a_preset_is_refused(tmp_path: Path) -> None:
    preset = tmp_path / "bad.yaml"
    preset.write_text("optim: {learning_rate: 0.1}\n")
    with pytest.raises(ConfigError, match=r"optim\.learning_rate: Extra inputs are not permitted"):
        load_config(preset)


def test_unknown_top_level_and_nested_source_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="epochz"):
        load_config(None, ["epochz=3"])
    with pytest.raises(ConfigError, match=r"data\.train_sources\.0\.wieght"):
        load_config(None, ["data.train_sources=[{type: fer2013, root: x, wieght: 2}]"])


def test_wrong_types_and_choices_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        load_config(None, ["train.epochs=many"])
    with pytest.raises(ConfigError, match=r"train\.amp"):
        load_config(None, ["train.amp=fp8"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, ["train.epochs"])


def test_overrides_fill_placeholders_and_keep_defaults(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "default.yaml", ["train.epochs=3", "optim.lr=0.01"], str(tmp_path))
    assert cfg.train.epochs == 3 and cfg.optim.lr == 0.01
    assert cfg.out_dir == "runs/convnext-face48"
    assert cfg.data.train_sources[0].root == f"{tmp_path}/fer2013"
    assert cfg.optim.weight_decay == DEFAULTS["optim"]["weight_decay"]
    assert cfg.to_dict()["train"]["epochs"] == 3


def test_assignment_is_validated_too() -> None:
    cfg = TrainConfig()
    with pytest.raises(ValueError):
        cfg.train.epochs = "x"  # type: ignore[assignment]
