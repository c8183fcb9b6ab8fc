import type { FrameResult, Probabilities } from "../api/types";

/** The model's label order, fixed across the whole system. */
export const EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"] as const;
export type Emotion = (typeof EMOTIONS)[number];

export const NEGATIVE_EMOTIONS: readonly Emotion[] = ["angry", "disgust", "fear", "sad"];

export const EMOTION_LABELS: Record<Emotion, string> = {
  angry: "Angry",
  disgust: "Disgust",
  fear: "Fear",
  happy: "Happy",
  neutral: "Neutral",
  sad: "Sad",
  surprise: "Surprise",
};

/** Colour-blind-friendlier palette (Okabe–Ito based), one colour per label. */
export const EMOTION_COLORS: Record<Emotion, string> = {
  angry: "#d55e00",
  disgust: "#6b8e23",
  fear: "#8e6bbf",
  happy: "#e69f00",
  neutral: "#7a8794",
  sad: "#0072b2",
  surprise: "#cc79a7",
};

export function isEmotion(value: unknown): value is Emotion {
  return typeof value === "string" && (EMOTIONS as readonly string[]).includes(value);
}

export function emotionLabel(value: string | null | undefined): string {
  if (!value) return "—";
  return isEmotion(value) ? EMOTION_LABELS[value] : value.charAt(0).toUpperCase() + value.slice(1);
}

export type TimelineRow = { t: number } & { [K in Emotion]: number | null };

/**
 * One row per sampled frame with the seven probabilities of the main face
 * (the largest one when several were found). Frames without a face get nulls so
 * the chart shows a gap rather than inventing values.
 */
export function timelineRows(frames: FrameResult[]): TimelineRow[] {
  return frames.map((frame) => {
    const row = { t: Math.round(frame.t * 100) / 100 } as TimelineRow;
    const face = mainFace(frame);
    for (const e of EMOTIONS) {
      row[e] = face ? roundProb(face.probabilities[e]) : null;
    }
    return row;
  });
}

export function mainFace(frame: FrameResult) {
  if (!frame.faces.length) return null;
  return frame.faces.reduce((best, f) => (area(f.box) > area(best.box) ? f : best));
}

function area(box: [number, number, number, number]): number {
  return Math.max(0, box[2]) * Math.max(0, box[3]);
}

function roundProb(p: number | undefined): number | null {
  if (typeof p !== "number" || Number.isNaN(p)) return null;
  return Math.round(p * 1000) / 1000;
}

export interface DistributionRow {
  emotion: Emotion;
  label: string;
  share: number;
  mean: number;
  color: string;
}

/** Distribution and mean probability per label, always in the model's label order. */
export function distributionRows(distribution: Partial<Probabilities>, mean: Partial<Probabilities>): DistributionRow[] {
  return EMOTIONS.map((e) => ({
    emotion: e,
    label: EMOTION_LABELS[e],
    share: distribution[e] ?? 0,
    mean: mean[e] ?? 0,
    color: EMOTION_COLORS[e],
  }));
}
