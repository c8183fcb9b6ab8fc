"""Where the shipped default model lives."""

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
