/** The wait, in words: friendly stage names and an estimate of the time left. */
import type { Stage } from "../api/types";

/** One label per stage a running job reports: the build fails when the API gains a stage without one. */
const STAGE_LABELS: Record<Exclude<Stage, "failed">, string> = {
  queued: "Waiting for a free analyser",
  probing: "Opening your video",
  analyzing: "Finding faces and reading expressions",
  summarizing: "Putting your report together",
  saving: "Saving your report",
  done: "Your report is ready",
};

/** The stage as a person would say it; a neutral "Working on it" for anything unknown. */
export function stageLabel(status: string, stage: Stage | null | undefined): string {
  if (status === "queued") return STAGE_LABELS.queued;
  return (stage && stage !== "failed" && STAGE_LABELS[stage]) || "Working on it";
}

/** Seconds a job takes before any progress is known: a fixed start-up plus a share of the video's length. */
export function priorEstimateS(videoS: number | null | undefined): number {
  return 8 + 2.5 * Math.max(0, videoS ?? 10);
}

/**
 * Seconds left: from the pace so far once there is enough progress to judge (≥ 10 % and 3 s), else from the video's
 * length; never below 1 s while running.
 */
export function remainingS(progress: number, elapsedS: number, videoS: number | null | undefined): number {
  const p = Math.min(1, Math.max(0, progress));
  const prior = Math.max(0, priorEstimateS(videoS) - elapsedS);
  if (p < 0.1 || elapsedS < 3) return Math.max(1, prior);
  const paced = (elapsedS * (1 - p)) / p;
  const w = Math.min(1, (p - 0.1) / 0.3); // trust the pace more as progress accumulates
  return Math.max(1, w * paced + (1 - w) * prior);
}

/** "about 20 s left", "about 2 min left", "almost done". */
export function remainingText(s: number): string {
  if (s <= 5) return "almost done";
  if (s < 60) return `about ${Math.round(s / 5) * 5} s left`;
  return `about ${Math.round(s / 60)} min left`;
}

/** The next displayed value of a progress bar that glides towards the reported value (never backwards). */
export function glide(shown: number, target: number): number {
  const t = Math.min(1, Math.max(0, target));
  if (shown >= t) {
    // creep a little past the last report so the bar never looks stuck, but stay close to the truth
    return Math.max(shown, Math.min(shown + 0.002, t + 0.03, 0.98));
  }
  return Math.min(t, shown + Math.max((t - shown) * 0.25, 0.004));
}
