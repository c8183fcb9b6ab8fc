/** The history's trend: one point per finished analysis, oldest first (dominant expression and negative share). */
import type { Analysis, HistoryItem } from "../api/types";

export const TREND_MAX = 10;

export interface TrendPoint {
  id: string;
  date: string;
  dominant: string;
  /** Share of the readable time with a negative expression (primary person); null until known. */
  negativeShare: number | null;
}

/** The newest `max` succeeded analyses that saw a face, oldest first (the negative share comes with the list). */
export function trendPoints(items: readonly HistoryItem[], max = TREND_MAX): TrendPoint[] {
  return items
    .filter((a) => a.status === "succeeded" && a.dominant_emotion)
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, max)
    .reverse()
    .map((a) => ({ id: a.id, date: a.created_at, dominant: a.dominant_emotion as string, negativeShare: a.negative_share ?? null }));
}

/** "Apart": failed analyses are listed on their own, after the others (both keep their order). */
export function splitFailed<T extends Analysis>(items: readonly T[]): { active: T[]; failed: T[] } {
  return { active: items.filter((a) => a.status !== "failed"), failed: items.filter((a) => a.status === "failed") };
}
