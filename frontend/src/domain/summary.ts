/** The report's plain-words summary of one person and its few key figures. */
import type { Person } from "../api/types";
import type { ReadBand } from "./confidence";
import { emotionLabel, emotionWord, isNegative, type Emotion } from "./emotions";
import type { Band } from "./ribbon";
import { timeSplit } from "./timeline";
import { listWords, percent, plural, seconds } from "./words";

/** Plain words for a gap reason ("the face was turned away from the camera"); undefined when unknown. */
export type GapPhrases = Record<string, string>;

/** Unreadable time is mentioned when it reaches this many seconds or this share of the time the person was seen. */
const UNREADABLE_MIN_S = 1;
const UNREADABLE_MIN_SHARE = 0.2;
/** Another expression is "sometimes" at this share of the readable time, "briefly" below it. */
const SOMETIMES_SHARE = 0.15;
/** Unclear time is mentioned from this share of the readable time, and leads the summary from the second. */
const UNCLEAR_MENTION_SHARE = 0.2;
const UNCLEAR_LEAD_SHARE = 0.5;

function lead(word: string, share: number): string {
  if (share >= 0.6) return `Mostly ${word}`;
  if (share >= 0.4) return `Often ${word}`;
  return `A mix of expressions, most often ${word}`;
}

/** Seconds per expression over the bands the model was sure of, longest first; and the seconds it was unsure of. */
export function clearTime(bands: readonly ReadBand[]): { byEmotion: [Emotion, number][]; unclearS: number; readableS: number } {
  const by = new Map<Emotion, number>();
  let unclearS = 0;
  let readableS = 0;
  for (const b of bands) {
    if (!b.emotion) continue;
    const s = b.end - b.start;
    readableS += s;
    if (b.unclear) unclearS += s;
    else by.set(b.emotion, (by.get(b.emotion) ?? 0) + s);
  }
  return { byEmotion: [...by.entries()].sort((a, b) => b[1] - a[1]), unclearS, readableS };
}

/** The longest run of adjoining negative stretches the model was sure of, in seconds. */
function longestClearNegativeS(bands: readonly ReadBand[]): number {
  let best = 0;
  let run = 0;
  for (const b of bands) {
    run = b.emotion && !b.unclear && isNegative(b.emotion) ? run + (b.end - b.start) : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** Seconds per quality reason of the stretches where the face was there but could not be read. */
function unreadable(bands: readonly Band[]): [string, number][] {
  const out = new Map<string, number>();
  for (const b of bands) if (!b.emotion && b.gapReason && b.gapReason !== "not_visible") out.set(b.gapReason, (out.get(b.gapReason) ?? 0) + b.end - b.start);
  return [...out.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * Two or three short sentences about one person that lead with the conclusion, in plain words and without timestamps
 * (the band and "The timeline in words" say when), e.g. "Mostly neutral, sometimes happy. No lasting negative
 * expression." Built from the smoothed band; stretches the model was unsure of are not named.
 */
export function summarySentences(person: Person, bands: readonly ReadBand[], phrases: GapPhrases = {}): string[] {
  const ind = person.indicators;
  if (!ind || !person.dominant_emotion) {
    const reason = unreadable(bands)[0]?.[0] ?? Object.entries(person.unassessable).sort((a, b) => b[1] - a[1])[0]?.[0];
    const why = reason && phrases[reason] ? `: ${phrases[reason]}` : "";
    return [`We could not read this person's expression${why}.`];
  }
  const { byEmotion, unclearS, readableS } = clearTime(bands);
  const out: string[] = [];
  if (!byEmotion.length || readableS <= 0) {
    out.push(`We could not tell this person's expression: the model was unsure throughout (it leaned towards ${emotionWord(person.dominant_emotion)}).`);
  } else {
    const [[top, topS], ...rest] = byEmotion;
    const clearS = readableS - unclearS;
    if (unclearS / readableS >= UNCLEAR_LEAD_SHARE) {
      // mostly unsure: say so first, and what it saw only for the little it was sure of
      const others = rest.slice(0, 1).map(([e]) => `briefly ${emotionWord(e)}`);
      out.push(`The expression was unclear most of the time (${seconds(unclearS)} of ${seconds(readableS)}).`);
      out.push(`In the ${seconds(clearS)} the model was sure of: ${emotionWord(top)}${others.length ? `, ${listWords(others)}` : ""}.`);
    } else {
      const others = rest.slice(0, 2).map(([e, s]) => `${s / readableS >= SOMETIMES_SHARE ? "sometimes" : "briefly"} ${emotionWord(e)}`);
      out.push(`${lead(emotionWord(top), topS / readableS)}${others.length ? `, ${listWords(others)}` : ""}.`);
      if (unclearS / readableS >= UNCLEAR_MENTION_SHARE) out.push(`For ${seconds(unclearS)} the expression was unclear.`);
    }
  }
  if (ind.sustained_negative_affect) {
    // the worker's longest negative stretch is named only when the model was sure of it
    const sure = longestClearNegativeS(bands) >= ind.sustained_negative_s - 1e-6;
    out.push(
      sure
        ? `A negative expression lasted ${seconds(ind.longest_negative_run_s)} without a break.`
        : `A stretch of ${seconds(ind.longest_negative_run_s)} may have been negative, but the model was unsure of it.`,
    );
  } else out.push(ind.negative_share > 0 ? "No lasting negative expression." : "No negative expression.");
  const gaps = unreadable(bands);
  const gapS = gaps.reduce((s, [, v]) => s + v, 0);
  const seen = person.seen_s;
  if (gapS >= UNREADABLE_MIN_S || (seen > 0 && gapS / seen >= UNREADABLE_MIN_SHARE)) {
    const why = phrases[gaps[0][0]];
    out.push(`For ${seconds(gapS)} the face couldn't be read${why ? ` (mostly because ${why})` : ""}.`);
  }
  return out;
}

/**
 * Whether the person's most frequent expression is one the model was unsure of for most of its time (the worker's
 * `unclear` segments): then the report says "unclear" instead of naming it (key figures, people picker).
 */
export function dominantUnclear(person: Pick<Person, "dominant_emotion" | "segments">): boolean {
  const dominant = person.dominant_emotion;
  if (!dominant) return false;
  let all = 0;
  let unsure = 0;
  for (const s of person.segments) {
    if (s.emotion !== dominant) continue;
    all += s.end_t - s.start_t;
    if (s.unclear) unsure += s.end_t - s.start_t;
  }
  return all > 0 && unsure / all > 0.5;
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
  // the most frequent expression is named only when the model was sure of it for most of its time
  const unsure = dominantUnclear(person);
  return [
    unsure
      ? {
          key: "dominant",
          label: "Most frequent expression",
          value: "Unclear",
          explanation: `The model was unsure most of the time; it leaned towards ${emotionWord(dominant)} (${percent(person.distribution[dominant] ?? 0)} of the readable time).`,
        }
      : {
          key: "dominant",
          label: "Most frequent expression",
          // its clear share, as in "How the time divides" (unclear stretches count apart)
          value: `${emotionLabel(dominant)} · ${percent(timeSplit(person).rows.find((r) => r.emotion === dominant)?.share ?? 0)}`,
          explanation: `Share of the readable time in which ${emotionWord(dominant)} was clearly the most likely expression.`,
        },
    {
      key: "readable",
      label: "Face readable",
      // the document's figures: readable ≤ seen ≤ video length by construction, so this never reads "16 s of 15 s"
      value: `${seconds(person.readable_s)} of ${seconds(durationS)}`,
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
