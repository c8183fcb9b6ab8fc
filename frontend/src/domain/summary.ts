/** The report's plain-words summary of one person and its few key figures. */
import type { Person } from "../api/types";
import { emotionLabel, emotionWord, type Emotion } from "./emotions";
import type { Band } from "./ribbon";
import { listWords, moment, percent, plural, seconds, withArticle } from "./words";

/** Plain words for a gap reason ("the face was turned away from the camera"); undefined when unknown. */
export type GapPhrases = Record<string, string>;

const MAX_MOMENTS = 3;
/** Unreadable time is mentioned when it reaches this many seconds or this share of the time the person was seen. */
const UNREADABLE_MIN_S = 1;
const UNREADABLE_MIN_SHARE = 0.2;

function lead(emotion: string, share: number): string {
  const word = emotionWord(emotion);
  if (share >= 0.6) return `Mostly ${word}`;
  if (share >= 0.4) return `Often ${word}`;
  return `A mix of expressions, most often ${word}`;
}

/** "happy moments around 4 s and 11 s" / "a sad moment around 7 s" for the other expressions, longest first. */
function moments(bands: readonly Band[], dominant: string): string[] {
  const byEmotion = new Map<Emotion, Band[]>();
  for (const b of bands) {
    if (!b.emotion || b.emotion === dominant) continue;
    byEmotion.set(b.emotion, [...(byEmotion.get(b.emotion) ?? []), b]);
  }
  const total = (list: Band[]) => list.reduce((s, b) => s + b.end - b.start, 0);
  return [...byEmotion.entries()]
    .sort((a, b) => total(b[1]) - total(a[1]))
    .slice(0, 2)
    .map(([emotion, list]) => {
      const picked = [...list]
        .sort((a, b) => b.end - b.start - (a.end - a.start))
        .slice(0, MAX_MOMENTS)
        .sort((a, b) => a.start - b.start)
        .map((b) => moment((b.start + b.end) / 2));
      const word = emotionWord(emotion);
      return list.length === 1 ? `${withArticle(word)} moment around ${picked[0]}` : `${word} moments around ${listWords(picked)}`;
    });
}

/** Seconds per quality reason of the stretches where the face was there but could not be read. */
function unreadable(bands: readonly Band[]): [string, number][] {
  const out = new Map<string, number>();
  for (const b of bands) if (!b.emotion && b.gapReason && b.gapReason !== "not_visible") out.set(b.gapReason, (out.get(b.gapReason) ?? 0) + b.end - b.start);
  return [...out.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * One or two sentences about one person, e.g. "Mostly neutral, with happy moments around 4 s and 11 s; no sustained
 * negative expression." Built from the person's smoothed series (the bands), so brief flickers are not mentioned.
 */
export function summarySentences(person: Person, bands: readonly Band[], phrases: GapPhrases = {}): string[] {
  const ind = person.indicators;
  const dominant = person.dominant_emotion;
  if (!ind || !dominant) {
    const reason = unreadable(bands)[0]?.[0] ?? Object.entries(person.unassessable).sort((a, b) => b[1] - a[1])[0]?.[0];
    const why = reason && phrases[reason] ? `: ${phrases[reason]}` : "";
    return [`We could not read this person's expression${why}.`];
  }
  const others = moments(bands, dominant);
  let negative: string;
  if (ind.sustained_negative_affect) negative = `a negative expression lasted ${seconds(ind.longest_negative_run_s)} without a break`;
  else if (ind.negative_share > 0) negative = "no sustained negative expression";
  else negative = "no negative expression";
  const first = `${lead(dominant, person.distribution[dominant] ?? 0)}${others.length ? `, with ${listWords(others)}` : ""}; ${negative}.`;
  const out = [first];
  const gaps = unreadable(bands);
  const gapS = gaps.reduce((s, [, v]) => s + v, 0);
  const seen = person.last_t - person.first_t;
  if (gapS >= UNREADABLE_MIN_S || (seen > 0 && gapS / seen >= UNREADABLE_MIN_SHARE)) {
    const why = phrases[gaps[0][0]];
    out.push(`For ${seconds(gapS)} the face could not be read${why ? ` (mostly because ${why})` : ""}; those moments are left out.`);
  }
  return out;
}

export interface KeyFigure {
  key: string;
  label: string;
  value: string;
  /** One line on what the number means. */
  explanation: string;
}

/** The few numbers shown under the summary, each with one line saying what it means. */
export function keyFigures(person: Person, durationS: number): KeyFigure[] {
  const ind = person.indicators;
  const dominant = person.dominant_emotion;
  if (!ind || !dominant) return [];
  const perMinute = ind.emotion_changes_per_min;
  return [
    {
      key: "dominant",
      label: "Most frequent expression",
      value: `${emotionLabel(dominant)} · ${percent(person.distribution[dominant] ?? 0)}`,
      explanation: `Share of the readable time in which ${emotionWord(dominant)} was the most likely expression.`,
    },
    {
      key: "readable",
      label: "Face readable",
      value: `${seconds(ind.observed_s)} of ${seconds(durationS)}`,
      explanation: "How long this person's face was clear enough to read; only that time is summarised.",
    },
    {
      key: "changes",
      label: "Changes of expression",
      value: perMinute == null ? String(ind.expression_changes) : `${perMinute.toFixed(1)} per minute`,
      explanation:
        perMinute == null
          ? `The most likely expression changed ${plural(ind.expression_changes, "time")} in ${seconds(ind.observed_s)}, ignoring brief flickers.`
          : `${plural(ind.expression_changes, "change")} in ${seconds(ind.observed_s)}, ignoring brief flickers.`,
    },
  ];
}
