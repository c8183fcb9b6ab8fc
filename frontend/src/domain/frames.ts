/**
 * One person's faces frame by frame, from the result's `frames`: what the web app shows of them (thumbnails, the
 * probability lines, how sure each stretch of the band is) comes from the *readable* ones only — an unread face is
 * never pictured with an expression.
 */
import type { FrameResult, Person } from "../api/types";
import { EMOTIONS, type Emotion } from "./emotions";

/** One readable face of one person: when, its raw (calibrated, unsmoothed) probabilities and its kept crop, if any. */
export interface ReadFace {
  t: number;
  emotion: string;
  probabilities: Record<string, number>;
  crop: string | null;
}

/** The person's readable faces in time order (unreadable ones and other people's left out). */
export function readableFaces(frames: readonly FrameResult[], trackId: number): ReadFace[] {
  const out: ReadFace[] = [];
  for (const f of frames) {
    for (const face of f.faces) {
      if (face.track_id === trackId && face.assessable && face.emotion) out.push({ t: f.t, emotion: face.emotion, probabilities: face.probabilities, crop: face.crop ?? null });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/**
 * The picture that stands for a person (picker, face section): the worker's chosen crop (the worker pictures readable
 * faces only, and a stored unread face carries no crop), else the first kept crop of a readable face; null when the
 * person was never readable.
 */
export function personThumbnail(person: Pick<Person, "track_id" | "crop" | "assessable_frames">, frames: readonly FrameResult[]): string | null {
  if (person.assessable_frames <= 0) return null;
  if (person.crop) return person.crop;
  return readableFaces(frames, person.track_id).find((f) => f.crop)?.crop ?? null;
}

export type ProbabilityRow = { t: number } & { [K in Emotion]: number | null };

/** Width of the display smoothing of the probability lines: a centred mean over this many seconds of frames. */
export const DISPLAY_SMOOTHING_S = 0.6;

const round3 = (p: number) => Math.round(p * 1000) / 1000;

/**
 * The person's per-frame probabilities lightly smoothed for reading (a centred mean over `DISPLAY_SMOOTHING_S`, never
 * across a break), with an all-null row wherever two readable frames are further apart than `breakS` so the lines
 * break there.
 */
export function probabilityRows(faces: readonly ReadFace[], breakS: number, windowS = DISPLAY_SMOOTHING_S): ProbabilityRow[] {
  const runs: ReadFace[][] = [];
  for (const f of faces) {
    const run = runs[runs.length - 1];
    if (run && f.t - run[run.length - 1].t <= breakS) run.push(f);
    else runs.push([f]);
  }
  const rows: ProbabilityRow[] = [];
  runs.forEach((run, r) => {
    if (r > 0) {
      const gap = { t: Math.round(((runs[r - 1][runs[r - 1].length - 1].t + run[0].t) / 2) * 100) / 100 } as ProbabilityRow;
      for (const e of EMOTIONS) gap[e] = null;
      rows.push(gap);
    }
    for (const f of run) {
      const near = run.filter((g) => Math.abs(g.t - f.t) <= windowS / 2 + 1e-9);
      const row = { t: Math.round(f.t * 100) / 100 } as ProbabilityRow;
      for (const e of EMOTIONS) row[e] = round3(near.reduce((s, g) => s + (g.probabilities[e] ?? 0), 0) / near.length);
      rows.push(row);
    }
  });
  return rows;
}

/** The seven values of one row, largest first (for the readout beside the chart). */
export function sortedValues(row: ProbabilityRow): { emotion: Emotion; value: number }[] {
  return EMOTIONS.filter((e) => row[e] != null)
    .map((e) => ({ emotion: e, value: row[e] as number }))
    .sort((a, b) => b.value - a.value);
}
