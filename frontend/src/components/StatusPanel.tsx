import type { ProgressEvent } from "../api/types";
import { humanize } from "../lib/format";
import { ProgressBar } from "./ProgressBar";

const STEPS = [
  { key: "uploaded", label: "Video received" },
  { key: "queued", label: "Waiting for a free analyser" },
  { key: "processing", label: "Analysing expressions" },
  { key: "done", label: "Preparing your report" },
] as const;

function stepIndex(status: ProgressEvent["status"]): number {
  switch (status) {
    case "queued":
      return 1;
    case "processing":
      return 2;
    default:
      return 3;
  }
}

/** Live state of a queued or running analysis. */
export function StatusPanel({ event, transport }: { event: ProgressEvent; transport: "push" | "polling" | null }) {
  const current = stepIndex(event.status);
  const stage = humanize(event.stage);
  return (
    <section className="panel status-panel" aria-labelledby="status-title" data-testid="status-panel" data-status={event.status}>
      <h2 id="status-title">{event.status === "queued" ? "Waiting in the queue" : "Progress"}</h2>
      <p className="muted">This usually takes less than a minute. You can leave this page — the report will be in your history.</p>
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
      <ProgressBar
        value={event.status === "queued" ? null : event.progress}
        label={event.status === "queued" ? "Queued" : stage ? `Step: ${stage}` : "Working"}
        testId="analysis-progress"
      />
      <p className="sr-only" aria-live="polite">
        {event.status === "queued" ? "Queued." : `${Math.round(event.progress * 100)} percent.`}
      </p>
      {transport === "polling" && <p className="muted small">Live updates aren't available right now; checking every few seconds.</p>}
    </section>
  );
}
