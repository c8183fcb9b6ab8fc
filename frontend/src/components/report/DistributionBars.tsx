import { EMOTION_LABELS, emotionColor } from "../../domain/emotions";
import type { TimeSplit } from "../../domain/timeline";
import { percent, seconds } from "../../domain/words";

/** Share of the readable time per expression, as labelled bars with their values written on them; stretches the
 *  model was unsure of form their own grey "Unclear" bar (striped, as on the band). */
export function DistributionBars({ split, observedS }: { split: TimeSplit; observedS: number }) {
  const value = (share: number) => (
    <>
      {percent(share)}
      {share > 0 && <span className="muted"> · {seconds(share * observedS)}</span>}
    </>
  );
  const width = (share: number) => `${Math.max(share * 100, share > 0 ? 1 : 0)}%`;
  return (
    <figure className="bars" data-testid="distribution-chart">
      <p className="bars__intro">
        How the {seconds(observedS)} in which the face could be read divide between the seven expressions (the most likely
        expression at each moment, flickers smoothed out){split.unclear > 0 ? " and the moments the model was unsure of" : ""}.
      </p>
      <ul className="bars__list">
        {split.rows.map((r) => (
          <li key={r.emotion} className="bars__row" data-testid="distribution-bar">
            <span className="bars__label">{EMOTION_LABELS[r.emotion]}</span>
            <span className="bars__track" aria-hidden="true">
              <span className="bars__fill" style={{ width: width(r.share), background: emotionColor(r.emotion) }} />
            </span>
            <span className="bars__value" data-testid="bar-value">
              {value(r.share)}
            </span>
          </li>
        ))}
        {split.unclear > 0 && (
          <li className="bars__row bars__row--unclear" data-testid="distribution-bar-unclear">
            <span className="bars__label">Unclear</span>
            <span className="bars__track" aria-hidden="true">
              <span className="bars__fill bars__fill--unclear" style={{ width: width(split.unclear) }} />
            </span>
            <span className="bars__value" data-testid="bar-value-unclear">
              {value(split.unclear)}
            </span>
          </li>
        )}
      </ul>
    </figure>
  );
}
