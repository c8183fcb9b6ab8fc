"""Where the shipped default model lives, and which file of a model folder each backend runs."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_NAME = "convnext-face48"
"""Folder name under `models/` of the model the worker ships with."""

REPO_ROOT = Path(__file__).resolve().parents[1]


def models_dir() -> Path:
    """The repository's `models/` folder."""
    return REPO_ROOT / "models"


def default_model_path() -> Path:
    """Path of the default model file (`models/<DEFAULT_MODEL_NAME>/model.pt`)."""
    return models_dir() / DEFAULT_MODEL_NAME / "model.pt"


def default_onnx_path() -> Path:
    """Path of the default model's ONNX export (`models/<DEFAULT_MODEL_NAME>/model.onnx`), what CPU workers run."""
    return models_dir() / DEFAULT_MODEL_NAME / "model.onnx"


def onnx_path_for(path: Path) -> Path:
    """The ONNX file of a model file: ``path`` itself when it is one, else the ``.onnx`` beside it (``model.pt`` →
    ``model.onnx``), where ``training.export`` writes it."""
    return path if path.suffix == ".onnx" else path.with_suffix(".onnx")


def torch_path_for(path: Path) -> Path:
    """The PyTorch model file of a model file: ``path`` itself, or for an ``.onnx`` file the ``.pt`` beside it."""
    return path.with_suffix(".pt") if path.suffix == ".onnx" else path
