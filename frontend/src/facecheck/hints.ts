/** What the live face check says, and how much of a recording the face was readable. Pure; no ONNX Runtime here. */
import type { FrameReason } from "./quality";

/** The check's verdict on the latest frame. */
export type CheckState = "loading" | "unavailable" | "no_face" | FrameReason | "ok";

export interface Hint {
  /** Short, for the badge over the preview. */
  short: string;
  /** The sentence under the preview: what is wrong and what to do. */
  text: string;
  ok: boolean;
}

/** One hint per verdict; the order of checks (size, light, focus, pose) is the worker's. */
export const HINTS: Record<CheckState, Hint> = {
  loading: { short: "Starting the face check…", text: "Starting the face check…", ok: true },
  unavailable: {
    short: "Face check unavailable",
    text: "The live face check couldn't start in this browser. Keep your whole face in the picture, with light in front of you.",
    ok: true,
  },
  no_face: { short: "No face found", text: "No face found — look into the camera with your whole face in the picture.", ok: false },
  too_small: { short: "Too small — come closer", text: "Your face is too small to read — come closer to the camera.", ok: false },
  too_dark: { short: "Too dark", text: "It's too dark to read your face — turn on a light in front of you.", ok: false },
  overexposed: { short: "Too bright", text: "Your face is too bright — move away from a window or strong light behind or beside you.", ok: false },
  low_contrast: { short: "Too flat", text: "The picture of your face is too flat — add light from the front.", ok: false },
  blurred: { short: "Blurred — hold still", text: "Your face is blurred — hold still for a moment, or wipe the camera lens.", ok: false },
  turned_away: { short: "Turn toward the camera", text: "Turn toward the camera so both eyes are in view.", ok: false },
  ok: { short: "Face readable", text: "Your face is readable: good size, light and angle.", ok: true },
};

/** A check's verdict on one frame, timed (ms on any monotonic clock). */
export interface Sample {
  t: number;
  readable: boolean;
}

/**
 * Seconds in which the face was readable between `startMs` and `endMs`: each sample stands for the time until the next
 * one (or the end), at most `holdMs` (after that nothing is known, and nothing is counted). The last verdict before
 * `startMs` covers the start of the recording (the check runs continuously, so the first moments are not lost).
 */
export function readableSeconds(samples: readonly Sample[], startMs: number, endMs: number, holdMs = 1500): number {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const before = sorted.filter((s) => s.t < startMs).pop();
  const inside = sorted.filter((s) => s.t >= startMs && s.t <= endMs);
  if (before && startMs - before.t <= holdMs) inside.unshift({ t: startMs, readable: before.readable });
  let total = 0;
  inside.forEach((s, i) => {
    if (!s.readable) return;
    const next = i + 1 < inside.length ? inside[i + 1].t : endMs;
    total += Math.min(holdMs, Math.max(0, next - s.t));
  });
  return total / 1000;
}

/** The readable time may fall this far short of the minimum (about one check's spacing) and still count as enough. */
const SAMPLING_SLACK_S = 0.3;

/** What to say about a finished recording, or null when the check did not run. */
export function recordingVerdict(readableS: number | null, lengthS: number, minS: number): { text: string; retake: boolean } | null {
  if (readableS == null) return null;
  const readable = Math.min(readableS, lengthS);
  const shown = readable >= 10 ? Math.round(readable) : Math.round(readable * 10) / 10;
  const of = `${shown} of ${Math.round(lengthS)} seconds`;
  if (readable < 0.5)
    return { text: "Your face couldn't be read in this recording, so there would be nothing to report. Please record again.", retake: true };
  if (readable < minS - SAMPLING_SLACK_S)
    return {
      text: `Your face was readable for only ${of}; at least ${minS} seconds are needed for a useful report. We suggest recording again.`,
      retake: true,
    };
  return { text: `Your face was readable for ${of}.`, retake: false };
}
