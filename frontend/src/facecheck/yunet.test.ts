import { describe, expect, it } from "vitest";
import { candidates, decodeYunet, detectionScale, largestFirst, nms, paddedSize, toSource, type Detection, type YunetOutputs } from "./yunet";

/** Outputs of a padW×padH input with every score 0 except the given cells (stride, row, col, cls, obj, box, kps). */
function outputs(padW: number, padH: number, cells: { stride: 8 | 16 | 32; r: number; c: number; cls: number; obj: number; bbox: number[]; kps?: number[] }[]): YunetOutputs {
  const out: YunetOutputs = {};
  for (const stride of [8, 16, 32]) {
    const n = Math.floor(padW / stride) * Math.floor(padH / stride);
    out[`cls_${stride}`] = new Float32Array(n);
    out[`obj_${stride}`] = new Float32Array(n);
    out[`bbox_${stride}`] = new Float32Array(n * 4);
    out[`kps_${stride}`] = new Float32Array(n * 10);
  }
  for (const cell of cells) {
    const cols = Math.floor(padW / cell.stride);
    const idx = cell.r * cols + cell.c;
    (out[`cls_${cell.stride}`] as Float32Array)[idx] = cell.cls;
    (out[`obj_${cell.stride}`] as Float32Array)[idx] = cell.obj;
    (out[`bbox_${cell.stride}`] as Float32Array).set(cell.bbox, idx * 4);
    (out[`kps_${cell.stride}`] as Float32Array).set(cell.kps ?? new Array(10).fill(0), idx * 10);
  }
  return out;
}

describe("YuNet decoding (OpenCV's FaceDetectorYN)", () => {
  it("pads each side up to a multiple of 32 and scales the long side down to max_side", () => {
    expect(paddedSize(320, 240)).toEqual({ padW: 320, padH: 256 });
    expect(paddedSize(320, 180)).toEqual({ padW: 320, padH: 192 });
    expect(paddedSize(33, 32)).toEqual({ padW: 64, padH: 32 });
    expect(detectionScale(640, 480, 320)).toEqual({ scale: 0.5, width: 320, height: 240 });
    expect(detectionScale(300, 200, 320)).toEqual({ scale: 1, width: 300, height: 200 });
  });

  it("decodes centre, size, landmarks and the geometric-mean score of a cell", () => {
    const kps = [0.1, 0.2, 0.9, 0.2, 0.5, 0.5, 0.2, 0.8, 0.8, 0.8];
    const out = outputs(320, 256, [{ stride: 16, r: 3, c: 5, cls: 0.81, obj: 1.2, bbox: [0.5, 0.25, Math.log(4), Math.log(5)], kps }]);
    const [face] = decodeYunet(out, { padW: 320, padH: 256, scoreThreshold: 0.7, nmsThreshold: 0.3 });
    // centre (5 + 0.5)·16 = 88, (3 + 0.25)·16 = 52; size 4·16 × 5·16; obj clamped to 1 → √0.81 = 0.9
    expect(face.x).toBeCloseTo(88 - 32);
    expect(face.y).toBeCloseTo(52 - 40);
    expect(face.w).toBeCloseTo(64);
    expect(face.h).toBeCloseTo(80);
    expect(face.score).toBeCloseTo(0.9);
    expect(face.landmarks[0][0]).toBeCloseTo((5 + 0.1) * 16);
    expect(face.landmarks[0][1]).toBeCloseTo((3 + 0.2) * 16);
    expect(face.landmarks[4][1]).toBeCloseTo((3 + 0.8) * 16);
  });

  it("drops cells under the score threshold and walks strides, then rows, then columns", () => {
    const out = outputs(64, 64, [
      { stride: 32, r: 0, c: 0, cls: 1, obj: 1, bbox: [0, 0, 0, 0] },
      { stride: 8, r: 1, c: 0, cls: 0.5, obj: 0.5, bbox: [0, 0, 0, 0] },
      { stride: 8, r: 0, c: 7, cls: 0.9, obj: 0.9, bbox: [0, 0, 0, 0] },
    ]);
    const found = candidates(out, { padW: 64, padH: 64, scoreThreshold: 0.6 });
    expect(found.map((f) => f.score)).toEqual([expect.closeTo(0.9), 1]);
  });

  it("keeps the highest-scoring of overlapping boxes (NMS on integer-truncated boxes), and distant ones", () => {
    const box = (x: number, y: number, w: number, h: number, score: number): Detection => ({ x, y, w, h, score, landmarks: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] });
    const kept = nms([box(10, 10, 50, 50, 0.8), box(12, 11, 50, 50, 0.95), box(200, 10, 40, 40, 0.75)], 0.7, 0.3);
    expect(kept.map((k) => k.score)).toEqual([0.95, 0.75]);
    // truncation: 0.9 + 10.9 → 10, so these two overlap fully as OpenCV sees them
    expect(nms([box(10.9, 10.9, 20.9, 20.9, 0.9), box(10, 10, 20, 20, 0.8)], 0.5, 0.99)).toHaveLength(1);
    // a box scoring exactly the threshold is not kept by NMS (OpenCV keeps scores strictly above it)
    expect(nms([box(0, 0, 10, 10, 0.7), box(100, 100, 10, 10, 0.9)], 0.7, 0.3)).toHaveLength(1);
  });

  it("maps a box back to source pixels, clipped and rounded like the worker's clip_box", () => {
    const d: Detection = { x: -3, y: 10.2, w: 60.6, h: 80, score: 0.9, landmarks: [[30, 40], [50, 40], [40, 55], [32, 70], [48, 70]] };
    const s = toSource(d, 0.5, 640, 480);
    expect(s).toMatchObject({ x: 0, y: 20, w: 115, h: 160 });
    expect(s?.landmarks[2]).toEqual([80, 110]);
    expect(toSource({ ...d, x: 700, w: 1 }, 0.5, 640, 480)).toBeNull();
    expect(toSource({ ...d, w: Number.NaN }, 0.5, 640, 480)).toBeNull();
    const small = { ...d, w: 10, h: 10 };
    expect(largestFirst([small, d])[0]).toBe(d);
  });
});
