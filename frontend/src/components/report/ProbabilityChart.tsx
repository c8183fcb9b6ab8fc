import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { EMOTIONS, EMOTION_DASHES, EMOTION_LABELS, emotionColor } from "../../domain/emotions";
import { sortedValues, type ProbabilityRow } from "../../domain/timeline";
import { moment, percent } from "../../domain/words";

function LineSample({ emotion }: { emotion: (typeof EMOTIONS)[number] }) {
  return (
    <svg width="28" height="10" aria-hidden="true" className="line-sample">
      <line x1="1" y1="5" x2="27" y2="5" stroke={emotionColor(emotion)} strokeWidth="2.5" strokeDasharray={EMOTION_DASHES[emotion]} />
    </svg>
  );
}

/** The readout shown above the plot (never over the lines): the values at the pointed moment, largest first. */
function Readout({ active, payload }: { active?: boolean; payload?: readonly { payload?: ProbabilityRow }[] }) {
  const row = payload?.[0]?.payload;
  if (!active || !row) return null;
  const values = sortedValues(row);
  return (
    <div className="readout" data-testid="probability-readout">
      <strong>{moment(row.t)}</strong>
      {values.length ? (
        values.map((v) => (
          <span key={v.emotion} className="readout__item">
            <LineSample emotion={v.emotion} /> {EMOTION_LABELS[v.emotion]} {percent(v.value)}
          </span>
        ))
      ) : (
        <span>not read</span>
      )}
    </div>
  );
}

/** The seven smoothed probabilities over time, each with its own colour and dash pattern; gaps left open. */
export function ProbabilityChart({ rows }: { rows: ProbabilityRow[] }) {
  return (
    <figure className="chart" data-testid="timeline-chart">
      <ul className="line-legend" aria-label="Line patterns">
        {EMOTIONS.map((e) => (
          <li key={e}>
            <LineSample emotion={e} />
            {EMOTION_LABELS[e]}
          </li>
        ))}
      </ul>
      <div className="chart__canvas" style={{ height: 340 }} role="img" aria-label="The seven expression probabilities over time (the same figures are in the exports).">
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 640, height: 340 }}>
          <LineChart data={rows} margin={{ top: 64, right: 12, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e3e0d8" />
            <XAxis dataKey="t" type="number" domain={[0, "dataMax"]} tickFormatter={(v: number) => moment(v)} tick={{ fontSize: 12, fill: "#4a5560" }} />
            <YAxis domain={[0, 1]} ticks={[0, 0.5, 1]} tickFormatter={(v: number) => percent(v)} width={44} tick={{ fontSize: 12, fill: "#4a5560" }} />
            <Tooltip content={<Readout />} position={{ x: 0, y: 0 }} isAnimationActive={false} wrapperStyle={{ width: "100%", pointerEvents: "none" }} cursor={{ stroke: "#1d2a33", strokeWidth: 1 }} />
            {EMOTIONS.map((e) => (
              <Line key={e} type="linear" dataKey={e} name={EMOTION_LABELS[e]} stroke={emotionColor(e)} strokeWidth={2.2} strokeDasharray={EMOTION_DASHES[e]} dot={false} connectNulls={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="chart__caption">
        The model's smoothed estimate for each expression at each sampled moment. Breaks in the lines are moments that could not be read.
      </figcaption>
    </figure>
  );
}
