/**
 * YuNet's output decoding, exactly as OpenCV's `cv2.FaceDetectorYN` (modules/objdetect/src/face_detect.cpp) does it
 * for the worker (`bloomwell_ml/faces.py`): the frame is scaled to a long side of `max_side`, padded with zeros on the
 * right and bottom to a multiple of 32, fed as BGR 0-255 planes (no mean, no scaling); for each stride (8, 16, 32) and
 * grid cell the score is √(cls·obj) (both clamped to 0..1), the box centre is (cell + offset)·stride, its size
 * exp(log-size)·stride, the five landmarks (cell + offset)·stride; boxes under the score threshold are dropped and the
 * rest go through non-maximum suppression on integer-truncated boxes (`cv::dnn::NMSBoxes`).
 */

export const STRIDES = [8, 16, 32] as const;
const DIVISOR = 32;

/** Size of the network's input for a scaled frame: each side rounded up to a multiple of 32 (OpenCV's padW/padH). */
export function paddedSize(width: number, height: number): { padW: number; padH: number } {
  return {
    padW: (Math.floor((width - 1) / DIVISOR) + 1) * DIVISOR,
    padH: (Math.floor((height - 1) / DIVISOR) + 1) * DIVISOR,
  };
}

/** The worker's scale for detection: the long side brought down to `maxSide` (never up), rounded sizes. */
export function detectionScale(width: number, height: number, maxSide: number): { scale: number; width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale >= 1) return { scale: 1, width, height };
  return { scale, width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export type Point = [number, number];

/** One detected face in the network's input pixels (or, after `toSource`, in source-frame pixels). */
export interface Detection {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
  /** right eye, left eye, nose tip, right mouth corner, left mouth corner (the subject's right is the image's left). */
  landmarks: [Point, Point, Point, Point, Point];
}

/** The twelve output tensors by name (`cls_8` … `kps_32`), flat float arrays. */
export type YunetOutputs = Record<string, ArrayLike<number>>;

export interface DecodeOptions {
  padW: number;
  padH: number;
  scoreThreshold: number;
  nmsThreshold: number;
  topK?: number;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Every candidate over the score threshold, in OpenCV's order (stride, then row, then column). */
export function candidates(outputs: YunetOutputs, { padW, padH, scoreThreshold }: Omit<DecodeOptions, "nmsThreshold">): Detection[] {
  const faces: Detection[] = [];
  for (const stride of STRIDES) {
    const cols = Math.floor(padW / stride);
    const rows = Math.floor(padH / stride);
    const cls = outputs[`cls_${stride}`];
    const obj = outputs[`obj_${stride}`];
    const bbox = outputs[`bbox_${stride}`];
    const kps = outputs[`kps_${stride}`];
    if (!cls || !obj || !bbox || !kps) throw new Error(`YuNet output for stride ${stride} is missing`);
    if (cls.length < rows * cols) throw new Error(`YuNet output cls_${stride} has ${cls.length} cells, expected ${rows * cols}`);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const idx = r * cols + c;
        const score = Math.sqrt(clamp01(cls[idx]) * clamp01(obj[idx]));
        if (score < scoreThreshold) continue;
        const cx = (c + bbox[idx * 4]) * stride;
        const cy = (r + bbox[idx * 4 + 1]) * stride;
        const w = Math.exp(bbox[idx * 4 + 2]) * stride;
        const h = Math.exp(bbox[idx * 4 + 3]) * stride;
        const lm = [0, 1, 2, 3, 4].map((n) => [(kps[idx * 10 + 2 * n] + c) * stride, (kps[idx * 10 + 2 * n + 1] + r) * stride] as Point);
        faces.push({ x: cx - w / 2, y: cy - h / 2, w, h, score, landmarks: lm as Detection["landmarks"] });
      }
    }
  }
  return faces;
}

/** Area of the overlap of two integer rectangles over the area of their union (OpenCV's `rectOverlap`). */
function iou(a: IntRect, b: IntRect): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

interface IntRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * `cv::dnn::NMSBoxes(boxes, scores, scoreThreshold, nmsThreshold, keep, eta = 1, topK)`: highest score first (a stable
 * sort, ties keep their order), a box is kept when it overlaps no kept box by more than the threshold. Boxes are
 * compared as `Rect2i(int(x), int(y), int(w), int(h))`, as OpenCV builds them.
 */
export function nms(faces: readonly Detection[], scoreThreshold: number, nmsThreshold: number, topK = 5000): Detection[] {
  const order = faces
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.score > scoreThreshold)
    .sort((a, b) => b.f.score - a.f.score || a.i - b.i)
    .slice(0, topK > 0 ? topK : undefined);
  const kept: { f: Detection; r: IntRect }[] = [];
  for (const { f } of order) {
    const r = { x: Math.trunc(f.x), y: Math.trunc(f.y), w: Math.trunc(f.w), h: Math.trunc(f.h) };
    if (kept.every((k) => iou(k.r, r) <= nmsThreshold)) kept.push({ f, r });
  }
  return kept.map((k) => k.f);
}

/** `candidates` then `nms`, as `FaceDetectorYN.detect` returns them (NMS only when there are two or more). */
export function decodeYunet(outputs: YunetOutputs, options: DecodeOptions): Detection[] {
  const found = candidates(outputs, options);
  if (found.length <= 1) return found;
  return nms(found, options.scoreThreshold, options.nmsThreshold, options.topK ?? 5000);
}

/**
 * A detection in the scaled frame mapped back to the source frame and clipped to it, as the worker's `clip_box`
 * (rounded corners; nothing when under 2 px is left or the network gave non-finite numbers).
 */
export function toSource(d: Detection, scale: number, width: number, height: number): Detection | null {
  const corners = [d.x / scale, d.y / scale, (d.x + d.w) / scale, (d.y + d.h) / scale];
  if (!corners.every(Number.isFinite)) return null;
  const xa = Math.max(0, Math.round(corners[0]));
  const ya = Math.max(0, Math.round(corners[1]));
  const xb = Math.min(width, Math.round(corners[2]));
  const yb = Math.min(height, Math.round(corners[3]));
  if (xb - xa < 2 || yb - ya < 2) return null;
  const landmarks = d.landmarks.map(([px, py]) => [px / scale, py / scale] as Point) as Detection["landmarks"];
  return { x: xa, y: ya, w: xb - xa, h: yb - ya, score: d.score, landmarks };
}

/** The faces largest first (ties left to right, then top to bottom), as the worker orders them. */
export function largestFirst(faces: readonly Detection[]): Detection[] {
  return [...faces].sort((a, b) => b.w * b.h - a.w * a.h || a.x - b.x || a.y - b.y);
}
