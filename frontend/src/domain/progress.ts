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

/**
 * Seconds left: the server's estimate (`expected_s`, from the workers' measured processing seconds per second of video,
 * services/common/speed.py) less the seconds the job has been running; once it runs past that estimate, from the pace
 * so far. Never below 1 s while running; null without an estimate and before there is a pace to judge.
 */
export function remainingS(progress: number, runningS: number, expectedS: number | null | undefined): number | null {
  const p = Math.min(1, Math.max(0, progress));
  if (expectedS != null && runningS < expectedS - 1) return expectedS - runningS;
  if (p >= 0.1 && runningS > 0) return Math.max(1, (runningS * (1 - p)) / p);
  return expectedS != null ? 1 : null;
}

/** "about 20 s left", "about 2 min left", "almost done"; "working out the time left" without an estimate. */
export function remainingText(s: number | null): string {
  if (s == null) return "working out the time left";
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
