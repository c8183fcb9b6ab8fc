import type { Indicators, Summary } from "../api/types";
import { emotionLabel } from "./emotions";
import { formatPercent, formatSeconds } from "./format";

export interface Observation {
  key: string;
  title: string;
  value: string;
  text: string;
}

function variabilityWord(v: number): string {
  if (v < 0.25) return "little";
  if (v < 0.55) return "some";
  return "a lot of";
}

/**
 * Turns the numeric indicators into plain observations about the video.
 * They describe what the model saw; they are not judgements about the person.
 */
export function describeIndicators(ind: Indicators | null, summary: Pick<Summary, "dominant_emotion" | "duration_s">): Observation[] {
  const out: Observation[] = [];
  if (ind == null) return out;
  out.push({
    key: "negative_share",
    title: "Negative expressions",
    value: formatPercent(ind.negative_share),
    text: `In ${formatPercent(ind.negative_share)} of the moments with a visible face, the most likely expression was angry, disgusted, fearful or sad.`,
  });
  out.push({
    key: "sustained_negative_affect",
    title: "Sustained negative expression",
    value: ind.sustained_negative_affect ? "Observed" : "Not observed",
    text: ind.sustained_negative_affect
      ? "A continuous stretch of mostly negative expressions was observed in this video."
      : "No continuous stretch of mostly negative expressions was observed in this video.",
  });
  out.push({
    key: "longest_negative_run_s",
    title: "Longest negative stretch",
    value: formatSeconds(ind.longest_negative_run_s),
    text:
      ind.longest_negative_run_s > 0
        ? `The longest uninterrupted stretch of negative expressions lasted about ${formatSeconds(ind.longest_negative_run_s)}.`
        : "There was no stretch where a negative expression was the most likely one.",
  });
  out.push({
    key: "expression_variability",
    title: "Expression variety",
    value: ind.expression_variability.toFixed(2),
    text: `The face showed ${variabilityWord(ind.expression_variability)} variety in expressions (${ind.expression_variability.toFixed(2)} on a scale from 0, always the same, to 1, evenly spread).`,
  });
  const perMinute = ind.emotion_changes_per_min;
  const changes = `${ind.expression_changes} ${ind.expression_changes === 1 ? "time" : "times"}`;
  out.push({
    key: "expression_changes",
    title: "Changes of expression",
    value: perMinute == null ? String(ind.expression_changes) : `${perMinute.toFixed(1)} / min`,
    text: `The most likely expression changed ${changes} in ${formatSeconds(ind.observed_s)} of readable video${
      summary.dominant_emotion ? `; overall it was most often ${emotionLabel(summary.dominant_emotion).toLowerCase()}` : ""
    }.`,
  });
  return out;
}
