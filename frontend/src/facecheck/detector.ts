/**
 * The in-browser face check: the worker's YuNet file on ONNX Runtime Web (WebAssembly, one thread, every file served by
 * this app's own build), decoded as OpenCV decodes it, then the worker's quality measurements on the largest face.
 * Loaded as its own chunk, only once the webcam is turned on.
 */
import * as ort from "onnxruntime-web/wasm";
import type { FaceCheckConfig } from "../api/types";
import yunetUrl from "../../../models/face_detector/face_detection_yunet_2023mar.onnx?url";
import { withFreeShapes } from "./onnxShape";
import { assess, estimateYawDeg, eyeRollDeg, greyImage, laplacianVariance, meanStd, type FaceMeasures, type FrameReason } from "./quality";
import { decodeYunet, detectionScale, largestFirst, paddedSize, toSource, type Detection, type YunetOutputs } from "./yunet";

export interface CheckedFace {
  /** The largest face, in source-frame pixels. */
  box: Detection;
  measures: FaceMeasures;
  /** Why the worker would not read it; null when it would. */
  reason: FrameReason | null;
}

export interface FaceCheckResult {
  /** How many faces were found. */
  faces: number;
  /** The largest face with its quality; null when there is none. */
  primary: CheckedFace | null;
  width: number;
  height: number;
  /** Milliseconds the check took (grab, detect, measure). */
  ms: number;
}

async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2D canvas");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  return ctx;
}

/** Detects faces on video frames and measures the largest one as the worker would. */
export class FaceChecker {
  private readonly frame = document.createElement("canvas");
  private readonly small = document.createElement("canvas");
  private readonly face = document.createElement("canvas");

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly config: FaceCheckConfig,
  ) {}

  /** Fetches the model, checks it is the worker's file (SHA-256) and prepares ONNX Runtime. */
  static async create(config: FaceCheckConfig): Promise<FaceChecker> {
    ort.env.wasm.numThreads = 1; // no SharedArrayBuffer needed; one thread keeps the page responsive enough
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    const response = await fetch(yunetUrl);
    if (!response.ok) throw new Error(`the face detector could not be loaded (${response.status})`);
    const bytes = await response.arrayBuffer();
    const digest = await sha256Hex(bytes);
    if (digest !== config.detector.model_sha256) throw new Error("the face detector file is not the worker's");
    const session = await ort.InferenceSession.create(withFreeShapes(new Uint8Array(bytes)), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    return new FaceChecker(session, config);
  }

  /** Faces in the frame `source` shows now (`width`×`height` pixels), the largest one measured. */
  async check(source: CanvasImageSource, width: number, height: number): Promise<FaceCheckResult> {
    const started = performance.now();
    const { detector, quality, image_px: imagePx, nose_depth_ratio: noseDepth } = this.config;
    this.frame.width = width;
    this.frame.height = height;
    const frameCtx = context2d(this.frame);
    frameCtx.drawImage(source, 0, 0, width, height);

    const scaled = detectionScale(width, height, detector.max_side);
    this.small.width = scaled.width;
    this.small.height = scaled.height;
    const smallCtx = context2d(this.small);
    smallCtx.drawImage(this.frame, 0, 0, scaled.width, scaled.height);
    const pixels = smallCtx.getImageData(0, 0, scaled.width, scaled.height).data;

    const { padW: netW, padH: netH } = paddedSize(scaled.width, scaled.height);
    const plane = netW * netH;
    const input = new Float32Array(3 * plane); // B, G, R planes, 0-255, zeros right and below (cv::dnn::blobFromImage)
    for (let y = 0; y < scaled.height; y++) {
      for (let x = 0; x < scaled.width; x++) {
        const src = (y * scaled.width + x) * 4;
        const dst = y * netW + x;
        input[dst] = pixels[src + 2];
        input[plane + dst] = pixels[src + 1];
        input[2 * plane + dst] = pixels[src];
      }
    }
    const session = this.session;
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [1, 3, netH, netW]) };
    const results = await session.run(feeds);
    const outputs: YunetOutputs = {};
    for (const [name, tensor] of Object.entries(results)) outputs[name] = tensor.data as Float32Array;
    const found = decodeYunet(outputs, { padW: netW, padH: netH, scoreThreshold: detector.score_threshold, nmsThreshold: detector.nms_threshold });
    for (const tensor of Object.values(results)) tensor.dispose();

    const faces = largestFirst(
      found
        .map((d) => toSource(d, scaled.scale, width, height))
        .filter((d): d is Detection => d != null && Math.min(d.w, d.h) >= detector.min_face_px),
    );
    let primary: CheckedFace | null = null;
    if (faces.length) {
      const box = faces[0];
      const measures = this.measure(box, imagePx, noseDepth);
      primary = { box, measures, reason: assess(measures, quality) };
    }
    return { faces: faces.length, primary, width, height, ms: performance.now() - started };
  }

  /** The worker's measurements on the face as the classifier would see it: the square on the box, eye line levelled,
   *  as an `imagePx`² grey image. */
  private measure(box: Detection, imagePx: number, noseDepth: number): FaceMeasures {
    const [rightEye, leftEye, nose] = box.landmarks;
    const side = Math.max(box.w, box.h);
    const roll = eyeRollDeg(rightEye, leftEye);
    this.face.width = imagePx;
    this.face.height = imagePx;
    const ctx = context2d(this.face);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, imagePx, imagePx);
    ctx.translate(imagePx / 2, imagePx / 2);
    ctx.scale(imagePx / side, imagePx / side);
    ctx.rotate((-roll * Math.PI) / 180);
    ctx.translate(-(box.x + box.w / 2), -(box.y + box.h / 2));
    ctx.drawImage(this.frame, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const grey = greyImage(ctx.getImageData(0, 0, imagePx, imagePx).data, imagePx);
    const { mean, std } = meanStd(grey);
    return {
      facePx: Math.min(box.w, box.h),
      sharpness: laplacianVariance(grey, imagePx, imagePx),
      brightness: mean,
      contrast: std,
      yawDeg: estimateYawDeg(rightEye, leftEye, nose, noseDepth),
    };
  }
}
