import { useEffect, useState } from "react";
import type { Analysis, ProgressEvent } from "../api/types";
import { glide, remainingS, remainingText, stageLabel } from "../domain/progress";
import { formatClock } from "../lib/format";
import { askToNotify } from "../lib/notify";
import { ProgressBar } from "./ProgressBar";
import "./StatusPanel.css";

const STEPS = [
  { key: "uploaded", label: "Video received" },
  { key: "queued", label: "Waiting for a free analyser" },
  { key: "processing", label: "Reading expressions" },
  { key: "done", label: "Preparing your report" },
] as const;

function stepIndex(event: ProgressEvent): number {
  if (event.status === "queued") return 1;
  if (event.status === "processing") return event.stage === "summarizing" || event.stage === "saving" ? 3 : 2;
  return 3;
}

const TICK_MS = 250;

/** Seconds since `iso` (0 when unreadable or in the future), refreshed four times a second. */
function useElapsed(iso: string): number {
  const start = Date.parse(iso);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(h);
  }, []);
  return Number.isFinite(start) ? Math.max(0, (now - start) / 1000) : 0;
}

/** A bar value that glides towards the worker's reported progress instead of jumping. */
function useGlide(target: number): number {
  const [shown, setShown] = useState(target);
  useEffect(() => {
    const h = setInterval(() => setShown((s) => glide(s, target)), TICK_MS);
    return () => clearInterval(h);
  }, [target]);
  return shown;
}

/** Live state of a queued or running analysis: the stage in words, a smooth bar, time so far and time left. */
export function StatusPanel({ event, transport, analysis }: { event: ProgressEvent; transport: "push" | "polling" | null; analysis?: Pick<Analysis, "created_at" | "started_at" | "expected_s"> }) {
  const current = stepIndex(event);
  const queued = event.status === "queued";
  const elapsed = useElapsed(analysis?.created_at ?? "");
  // seconds the job has been running: since the record's started_at, else since it was created (queued time included)
  const sinceStart = useElapsed(analysis?.started_at ?? analysis?.created_at ?? "");
  const running = event.status === "processing" ? sinceStart : 0;
  const shown = useGlide(queued ? 0 : event.progress);
  const left = remainingS(event.progress, running, event.expected_s ?? analysis?.expected_s);
  const label = stageLabel(event.status, event.stage);
  const [notify, setNotify] = useState<string>(() => (typeof Notification === "undefined" ? "unsupported" : Notification.permission));
  return (
    <section className="panel status-panel" aria-labelledby="status-title" data-testid="status-panel" data-status={event.status}>
      <h2 id="status-title">{queued ? "Waiting in the queue" : "Progress"}</h2>
      <p className="muted">You can leave this page — the report will be in your history.</p>
      <ol className="status-steps">
        {STEPS.map((s, i) => (
          <li key={s.key} className={`status-step${i < current ? " status-step--done" : i === current ? " status-step--active" : ""}`} aria-current={i === current ? "step" : undefined}>
            <span className="status-step__mark" aria-hidden="true">
              {i < current ? "✓" : i + 1}
            </span>
            <span>{s.label}</span>
          </li>
        ))}
      </ol>
      <ProgressBar value={queued ? null : shown} label={label} testId="analysis-progress" />
      <p className="status-times" data-testid="status-times">
        <span>Elapsed {formatClock(elapsed * 1000)}</span>
        <span aria-hidden="true"> · </span>
        <span>{remainingText(left)}</span>
      </p>
      <p className="sr-only" aria-live="polite">
        {label}.
      </p>
      {notify === "default" && (
        <button type="button" className="btn btn--ghost btn--small" onClick={() => void askToNotify().then(setNotify)}>
          Tell me when it's ready
        </button>
      )}
      {transport === "polling" && <p className="muted small">Live updates aren't available right now; checking every few seconds.</p>}
    </section>
  );
}
