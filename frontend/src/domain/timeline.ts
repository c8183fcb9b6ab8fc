/** Rows of the distribution: share of readable time and mean probability per label. */
import { EMOTIONS, type Emotion } from "./emotions";

export interface DistributionRow {
  emotion: Emotion;
  share: number;
  mean: number;
}

/** Share of readable time and mean probability per label, in the model's label order (missing labels 0). */
export function distributionRows(distribution: Record<string, number>, mean: Record<string, number>): DistributionRow[] {
  return EMOTIONS.map((e) => ({ emotion: e, share: distribution[e] ?? 0, mean: mean[e] ?? 0 }));
}
