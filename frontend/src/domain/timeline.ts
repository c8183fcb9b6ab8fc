/** Rows of the distribution: share of readable time and mean probability per label, unclear stretches apart. */
import type { Person } from "../api/types";
import { EMOTIONS, type Emotion } from "./emotions";

export interface DistributionRow {
  emotion: Emotion;
  /** Share of the readable time in which this was the most likely expression and the model was sure of it. */
  share: number;
  mean: number;
}

/** How the readable time divides: the seven expressions (clear stretches only) and the unclear rest. */
export interface TimeSplit {
  rows: DistributionRow[];
  /** Share of the readable time in stretches the worker marked `unclear` (whatever the model leaned to). */
  unclear: number;
}

type SplitSource = Pick<Person, "distribution" | "mean_probabilities" | "timeline" | "segments">;

/**
 * The one computation of "how the time divides" for every view. The worker's `distribution` (share of readable
 * frames per smoothed expression) is split by its own verdicts: the frames of each expression that fall in an
 * `unclear` segment move to the unclear part. So the shares add up to the readable time and the negative ones sum
 * to the indicators' `negative_share` (which skips unclear stretches the same way). Missing labels count 0.
 */
export function timeSplit(person: SplitSource): TimeSplit {
  const unclearSpans = person.segments.filter((s) => s.emotion && s.unclear).map((s) => [s.start_t, s.end_t] as const);
  // frames per expression in the smoothed series, and those of them inside an unclear segment (the worker's rule)
  const all = new Map<string, number>();
  const unsure = new Map<string, number>();
  for (const point of person.timeline) {
    all.set(point.emotion, (all.get(point.emotion) ?? 0) + 1);
    if (unclearSpans.some(([a, b]) => a - 1e-6 <= point.t && point.t < b - 1e-6)) unsure.set(point.emotion, (unsure.get(point.emotion) ?? 0) + 1);
  }
  let unclear = 0;
  const rows = EMOTIONS.map((e) => {
    const share = person.distribution[e] ?? 0;
    const n = all.get(e) ?? 0;
    const moved = n > 0 ? (share * (unsure.get(e) ?? 0)) / n : 0;
    unclear += moved;
    return { emotion: e, share: share - moved, mean: person.mean_probabilities[e] ?? 0 };
  });
  return { rows, unclear };
}
