/** Observations about one person, worded as what the model saw (never a judgement), from the smoothed series. */
import type { Indicators } from "../api/types";
import { percent, plural, seconds } from "./words";

export interface Observation {
  key: string;
  title: string;
  value: string;
  text: string;
}

function varietyWord(v: number): string {
  if (v < 0.25) return "Little";
  if (v < 0.55) return "Some";
  return "A lot";
}

/**
 * Counts and durations rather than rates: a per-minute figure appears only when the server gives one (60 s or
 * more of readable video).
 */
export function observations(ind: Indicators | null): Observation[] {
  if (!ind) return [];
  const negativeS = ind.negative_share * ind.observed_s;
  const threshold = seconds(ind.sustained_negative_s);
  return [
    {
      key: "negative_share",
      title: "Negative expressions",
      value: `${percent(ind.negative_share)} · ${seconds(negativeS)}`,
      text:
        // the worker counts only stretches the model was sure of (unclear ones are skipped)
        ind.negative_share > 0
          ? `For about ${seconds(negativeS)} of the ${seconds(ind.observed_s)} that could be read, the model clearly saw an angry, disgusted, fearful or sad expression.`
          : `In the ${seconds(ind.observed_s)} that could be read, the model never clearly saw an angry, disgusted, fearful or sad expression (stretches it was unsure of are left out).`,
    },
    {
      key: "sustained_negative_affect",
      title: "Sustained negative expression",
      value: ind.sustained_negative_affect ? "Seen" : "Not seen",
      text: ind.sustained_negative_affect
        ? `A negative expression lasted ${threshold} or longer without a break.`
        : `No negative expression lasted ${threshold} or longer without a break.`,
    },
    {
      key: "longest_negative_run_s",
      title: "Longest negative stretch",
      value: seconds(ind.longest_negative_run_s),
      text:
        ind.longest_negative_run_s > 0
          ? `The longest unbroken stretch of a negative expression lasted about ${seconds(ind.longest_negative_run_s)}.`
          : "There was no stretch in which a negative expression was the most likely one.",
    },
    {
      key: "expression_variability",
      title: "Variety of expressions",
      value: varietyWord(ind.expression_variability),
      text: `${varietyWord(ind.expression_variability)} variety: the expression changed ${plural(ind.expression_changes, "time")}${
        ind.emotion_changes_per_min != null ? ` (${ind.emotion_changes_per_min.toFixed(1)} per minute)` : ""
      }, and the time was spread ${ind.expression_variability < 0.25 ? "mostly over one expression" : ind.expression_variability < 0.55 ? "over a few expressions" : "over many expressions"} (${ind.expression_variability.toFixed(2)} on a scale from 0, one expression throughout, to 1, all seven equally).`,
    },
  ];
}
