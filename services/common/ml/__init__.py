"""Model architecture, checkpoint I/O and preprocessing shared by training and the inference worker."""

from services.common.ml.arch import TORCHVISION_CONVNEXTS, create_model
from services.common.ml.io import LoadedModel, build_model, load_model, save_model
from services.common.ml.paths import DEFAULT_MODEL_NAME, default_model_path
from services.common.ml.preprocess import preprocess_faces
from services.common.ml.spec import IMAGENET_MEAN, IMAGENET_STD, ModelSpec

__all__ = [
    "DEFAULT_MODEL_NAME",
    "TORCHVISION_CONVNEXTS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LoadedModel",
    "ModelSpec",
    "build_model",
    "create_model",
    "default_model_path",
    "load_model",
    "preprocess_faces",
    "save_model",
]
