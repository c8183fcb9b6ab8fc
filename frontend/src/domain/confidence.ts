/**
 * When the report names an expression and when it says it was unclear. One threshold, in one place.
 */
import type { ReadFace } from "./frames";
import type { Band } from "./ribbon";

/**
 * A stretch of the band whose expression the model gave, on average over the stretch's readable frames, a probability
 * under this is called unclear instead of being named. Provisional (the model's test figures put single-frame
 * accuracy near 0.7 overall and much lower where its top probability is under 0.4); to be set from the calibration
 * figures of the model card.
 */
export const UNCLEAR_BELOW = 0.4;

/** A band with how sure the model was of its expression. */
export interface ReadBand extends Band {
  /** Mean raw probability of the band's expression over its readable frames; null for a gap or without frames. */
  confidence: number | null;
  /** The band names an expression the model was not sure of (confidence under `UNCLEAR_BELOW`). */
  unclear: boolean;
}

/** Each band with the mean probability its frames gave its expression, and whether that makes it unclear. */
export function withConfidence(bands: readonly Band[], faces: readonly ReadFace[], threshold = UNCLEAR_BELOW): ReadBand[] {
  return bands.map((b, i) => {
    if (!b.emotion) return { ...b, confidence: null, unclear: false };
    const last = i === bands.length - 1;
    const inside = faces.filter((f) => f.t >= b.start - 1e-6 && (f.t < b.end - 1e-6 || (last && f.t <= b.end + 1e-6)));
    if (!inside.length) return { ...b, confidence: null, unclear: false };
    const confidence = inside.reduce((s, f) => s + (f.probabilities[b.emotion as string] ?? 0), 0) / inside.length;
    return { ...b, confidence, unclear: confidence < threshold };
  });
}
