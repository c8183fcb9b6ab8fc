/** Rows for the on-demand probability chart: one person's smoothed probabilities, with nulls in the gaps. */
import type { Person } from "../api/types";
import { EMOTIONS, type Emotion } from "./emotions";
import type { Band } from "./ribbon";

export type ProbabilityRow = { t: number } & { [K in Emotion]: number | null };

const round = (p: number | undefined) => (typeof p === "number" && Number.isFinite(p) ? Math.round(p * 1000) / 1000 : null);

/** The person's smoothed timeline, plus an all-null row at the start of every gap so the lines break there. */
export function probabilityRows(person: Pick<Person, "timeline">, bands: readonly Band[]): ProbabilityRow[] {
  const rows: ProbabilityRow[] = person.timeline.map((pt) => {
    const row = { t: Math.round(pt.t * 100) / 100 } as ProbabilityRow;
    for (const e of EMOTIONS) row[e] = round(pt.probabilities[e]);
    return row;
  });
  for (const b of bands) {
    if (b.emotion) continue;
    const gap = { t: Math.round(b.start * 100) / 100 } as ProbabilityRow;
    for (const e of EMOTIONS) gap[e] = null;
    rows.push(gap);
  }
  return rows.sort((a, b) => a.t - b.t);
}

/** The seven values of one row, largest first (for the readout beside the chart). */
export function sortedValues(row: ProbabilityRow): { emotion: Emotion; value: number }[] {
  return EMOTIONS.filter((e) => row[e] != null)
    .map((e) => ({ emotion: e, value: row[e] as number }))
    .sort((a, b) => b.value - a.value);
}

export interface DistributionRow {
  emotion: Emotion;
  share: number;
  mean: number;
}

/** Share of readable time and mean probability per label, in the model's label order (missing labels 0). */
export function distributionRows(distribution: Record<string, number>, mean: Record<string, number>): DistributionRow[] {
  return EMOTIONS.map((e) => ({ emotion: e, share: distribution[e] ?? 0, mean: mean[e] ?? 0 }));
}
