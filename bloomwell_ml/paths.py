"""Where the shipped default model lives, and which file of a model folder each backend runs."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_NAME = "expression-ensemble"
"""Folder name under `models/` of the model the worker ships with: a bundle (`bundle.json`, `bloomwell_ml.bundle`)."""
CONVNEXT_MODEL_NAME = "convnext-face48"
"""Folder name of the single ConvNeXt model (2.2.0): a bundle member, still selectable on its own (MODEL_PATH), and
the model that training fine-tunes, evaluates and exports by default."""

REPO_ROOT = Path(__file__).resolve().parents[1]


def models_dir() -> Path:
    """The repository's `models/` folder."""
    return REPO_ROOT / "models"


def default_model_path() -> Path:
    """Path of the model the worker loads by default (`models/<DEFAULT_MODEL_NAME>/bundle.json`)."""
    return models_dir() / DEFAULT_MODEL_NAME / "bundle.json"


def convnext_model_path() -> Path:
    """Path of the single ConvNeXt model file (`models/<CONVNEXT_MODEL_NAME>/model.pt`)."""
    return models_dir() / CONVNEXT_MODEL_NAME / "model.pt"


def onnx_path_for(path: Path) -> Path:
    """The ONNX file of a model file: ``path`` itself when it is one (or a bundle's manifest, whose members name
    theirs), else the ``.onnx`` beside it (``model.pt`` → ``model.onnx``), where ``training.export`` writes it."""
    return path if path.suffix in (".onnx", ".json") else path.with_suffix(".onnx")


def torch_path_for(path: Path) -> Path:
    """The PyTorch model file of a model file: ``path`` itself (or a bundle's manifest), or for an ``.onnx`` file
    the ``.pt`` beside it."""
    return path.with_suffix(".pt") if path.suffix == ".onnx" else path
