/**
 * The dominant-expression ribbon: one person's smoothed segments laid out over the whole video, gaps included, each
 * with how sure the worker found the model of it (`confidence`, `unclear`: computed once, by the worker, against the
 * threshold from the model's calibration figures).
 */
import type { Segment } from "../api/types";
import { isEmotion, type Emotion } from "./emotions";

export interface Band {
  start: number;
  end: number;
  /** null for a gap (no readable face of this person). */
  emotion: Emotion | null;
  /** Why a gap could not be read ("not_visible" before/after the person was seen, or a quality reason). */
  gapReason: string | null;
  /** Share of the video's length, 0..1 (the band's width). */
  fraction: number;
  /** The worker's mean probability of the band's expression over its readable frames; null for a gap. */
  confidence: number | null;
  /** The worker found the model unsure of this stretch: the report says "unclear" instead of naming the expression. */
  unclear: boolean;
}

const EPS = 1e-6;
/** A hole between two segments shorter than this is closed (sampling jitter), not shown as a gap. */
const GAP_TOLERANCE_S = 0.05;

/**
 * Bands covering 0..duration: the person's segments in time order, neighbours with the same expression (or the
 * same gap reason) merged, the stretches before the person appears and after they leave as "not_visible" gaps,
 * and zero-length or out-of-range pieces dropped.
 */
export function ribbonBands(segments: readonly Segment[], duration: number): Band[] {
  const end = Math.max(duration, ...segments.map((s) => s.end_t), 0);
  if (end <= 0) return [];
  const pieces: Omit<Band, "fraction">[] = [];
  let cursor = 0;
  const add = (stop: number, emotion: Emotion | null, gapReason: string | null, confidence: number | null = null, unclear = false) => {
    const e = Math.min(end, stop);
    if (e - cursor <= EPS) return;
    const last = pieces[pieces.length - 1];
    if (last && last.emotion === emotion && last.gapReason === gapReason && last.unclear === unclear) {
      // the merged stretch's confidence: the two weighted by their lengths
      if (last.confidence != null && confidence != null) last.confidence = (last.confidence * (last.end - last.start) + confidence * (e - cursor)) / (e - last.start);
      last.end = e;
    } else pieces.push({ start: cursor, end: e, emotion, gapReason, confidence: emotion ? confidence : null, unclear: !!emotion && unclear });
    cursor = e;
  };
  for (const seg of [...segments].sort((a, b) => a.start_t - b.start_t)) {
    if (seg.start_t - cursor > GAP_TOLERANCE_S) add(seg.start_t, null, "not_visible");
    const emotion = isEmotion(seg.emotion) ? seg.emotion : null;
    add(seg.end_t, emotion, emotion ? null : (seg.gap_reason ?? "not_visible"), seg.confidence ?? null, seg.unclear ?? false);
  }
  add(end, null, "not_visible");
  return pieces.map((p) => ({ ...p, fraction: (p.end - p.start) / end }));
}

/** Total seconds per expression over the bands (gaps excluded). */
export function secondsPerEmotion(bands: readonly Band[]): Partial<Record<Emotion, number>> {
  const out: Partial<Record<Emotion, number>> = {};
  for (const b of bands) if (b.emotion) out[b.emotion] = (out[b.emotion] ?? 0) + (b.end - b.start);
  return out;
}
