/**
 * The worker's quality gate (`services/inference_worker/quality.py`) on a camera frame: the same measurements, the
 * same thresholds (served by `GET /v1/config`, never copied here) and the same order of reasons. Pure functions.
 */
import type { Point } from "./yunet";

/** `QualityThresholds` as `GET /v1/config` publishes it (`face_check.quality`). */
export interface Thresholds {
  min_face_px: number;
  min_sharpness: number;
  min_brightness: number;
  max_brightness: number;
  min_contrast: number;
  max_yaw_deg: number;
}

/** The worker's `UnassessableReason`s that a camera frame can show (`brief` needs a whole track). */
export type FrameReason = "too_small" | "too_dark" | "overexposed" | "low_contrast" | "blurred" | "turned_away";

export interface FaceMeasures {
  facePx: number;
  sharpness: number;
  brightness: number;
  contrast: number;
  yawDeg: number | null;
}

/** Grey level of an RGB pixel as OpenCV's `COLOR_RGB2GRAY` weighs it. */
export function grey(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Grey image (row-major, `size`×`size`) from RGBA pixels. */
export function greyImage(rgba: ArrayLike<number>, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(grey(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]));
  return out;
}

/** Mean and (population) standard deviation, as `cv2.meanStdDev`. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

const reflect101 = (i: number, n: number) => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);

/** Variance of the 4-neighbour Laplacian (`cv2.Laplacian(gray, CV_64F).var()`: ksize 1, border reflect-101). */
export function laplacianVariance(img: ArrayLike<number>, width: number, height: number): number {
  const lap = new Float64Array(width * height);
  const at = (x: number, y: number) => img[reflect101(y, height) * width + reflect101(x, width)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      lap[y * width + x] = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y);
    }
  }
  const { std } = meanStd(lap);
  return std * std;
}

/** The head's turn in degrees from the landmarks, as the worker's `estimate_yaw_deg`. */
export function estimateYawDeg(rightEye: Point, leftEye: Point, nose: Point, noseDepthRatio: number): number {
  const [rx, ry] = rightEye;
  const [lx, ly] = leftEye;
  const [nx, ny] = nose;
  const eyeDistance = Math.hypot(lx - rx, ly - ry);
  if (eyeDistance < 1e-6) return 90;
  const ux = (lx - rx) / eyeDistance;
  const uy = (ly - ry) / eyeDistance;
  const offset = (nx - (rx + lx) / 2) * ux + (ny - (ry + ly) / 2) * uy;
  return (Math.atan(offset / eyeDistance / noseDepthRatio) * 180) / Math.PI;
}

/** Angle of the eye line against the horizontal in degrees, as the worker's `eye_roll_deg`. */
export function eyeRollDeg(rightEye: Point, leftEye: Point): number {
  return (Math.atan2(leftEye[1] - rightEye[1], leftEye[0] - rightEye[0]) * 180) / Math.PI;
}

/** The first reason the face cannot be read, in the worker's order (size, light, focus, pose); null when readable. */
export function assess(q: FaceMeasures, t: Thresholds): FrameReason | null {
  if (q.facePx < t.min_face_px) return "too_small";
  if (q.brightness < t.min_brightness) return "too_dark";
  if (q.brightness > t.max_brightness) return "overexposed";
  if (q.contrast < t.min_contrast) return "low_contrast";
  if (q.sharpness < t.min_sharpness) return "blurred";
  if (q.yawDeg != null && Math.abs(q.yawDeg) > t.max_yaw_deg) return "turned_away";
  return null;
}
