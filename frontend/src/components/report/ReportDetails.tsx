import type { Person, Summary } from "../../api/types";
import { EMOTION_LABELS } from "../../domain/emotions";
import type { TimeSplit } from "../../domain/timeline";
import { percent, seconds } from "../../domain/words";

/** Technical details folded away: the model, the frame counts, and the mean probabilities explained. */
export function ReportDetails({ summary, person, split }: { summary: Summary; person: Person; split: TimeSplit }) {
  return (
    <details className="panel report-details" data-testid="report-details">
      <summary>
        <h2>Details</h2>
        <span className="muted small">model, frames and the exact figures</span>
      </summary>
      <dl className="report-details__list">
        <dt>Model</dt>
        <dd data-testid="model-info">
          {summary.model.name} {summary.model.version}
          {summary.model.detector ? `, face detector ${summary.model.detector}` : ""}
        </dd>
        <dt>Frames analysed</dt>
        <dd>
          <span data-testid="frames-analyzed">{summary.frames_analyzed}</span> ({summary.sample_fps} per second); {summary.frames_with_face} with a face
        </dd>
        <dt>This person</dt>
        <dd>
          <span data-testid="person-seconds">
            seen for {seconds(person.seen_s)} ({person.frames_with_face} frames), readable for {seconds(person.readable_s)} ({person.assessable_frames} frames)
          </span>
        </dd>
        <dt>Smoothing</dt>
        <dd>{summary.smoothing}</dd>
      </dl>
      <table className="report-details__table">
        <caption>
          Share of readable time and mean probability per expression. The mean probability is the model's average
          confidence for each expression over all readable moments; it is lower than the share because the model is rarely
          completely sure. Moments the model was unsure of count as unclear.
        </caption>
        <thead>
          <tr>
            <th scope="col">Expression</th>
            <th scope="col">Share of time</th>
            <th scope="col">Mean probability</th>
          </tr>
        </thead>
        <tbody>
          {split.rows.map((r) => (
            <tr key={r.emotion}>
              <th scope="row">{EMOTION_LABELS[r.emotion]}</th>
              <td>{percent(r.share)}</td>
              <td>{percent(r.mean)}</td>
            </tr>
          ))}
          {split.unclear > 0 && (
            <tr data-testid="details-unclear">
              <th scope="row">Unclear</th>
              <td>{percent(split.unclear)}</td>
              <td>—</td>
            </tr>
          )}
        </tbody>
      </table>
    </details>
  );
}
