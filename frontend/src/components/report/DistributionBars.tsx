import { EMOTION_LABELS, emotionColor } from "../../domain/emotions";
import type { DistributionRow } from "../../domain/timeline";
import { percent, seconds } from "../../domain/words";

/** Share of the readable time per expression, as labelled bars with their values written on them. */
export function DistributionBars({ rows, observedS }: { rows: DistributionRow[]; observedS: number }) {
  return (
    <figure className="bars" data-testid="distribution-chart">
      <p className="bars__intro">
        How the {seconds(observedS)} in which the face could be read divide between the seven expressions (the most likely
        expression at each moment, flickers smoothed out).
      </p>
      <ul className="bars__list">
        {rows.map((r) => (
          <li key={r.emotion} className="bars__row" data-testid="distribution-bar">
            <span className="bars__label">{EMOTION_LABELS[r.emotion]}</span>
            <span className="bars__track" aria-hidden="true">
              <span className="bars__fill" style={{ width: `${Math.max(r.share * 100, r.share > 0 ? 1 : 0)}%`, background: emotionColor(r.emotion) }} />
            </span>
            <span className="bars__value" data-testid="bar-value">
              {percent(r.share)}
              {r.share > 0 && <span className="muted"> · {seconds(r.share * observedS)}</span>}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
