import { useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { EMOTIONS, EMOTION_COLORS, EMOTION_LABELS, type Emotion, type TimelineRow } from "../../lib/emotions";
import { formatPercent } from "../../lib/format";

/** The seven probabilities over the video's time; gaps where no face was found. */
export function TimelineChart({ rows }: { rows: TimelineRow[] }) {
  const [hidden, setHidden] = useState<Set<Emotion>>(new Set());
  const toggle = (e: Emotion) =>
    setHidden((h) => {
      const n = new Set(h);
      if (n.has(e)) n.delete(e);
      else n.add(e);
      return n;
    });
  const maxT = rows.length ? rows[rows.length - 1].t : 0;
  return (
    <figure className="chart" data-testid="timeline-chart">
      <fieldset className="series-toggles">
        <legend className="sr-only">Show or hide expressions</legend>
        {EMOTIONS.map((e) => (
          <label key={e} className={`series-toggle${hidden.has(e) ? " series-toggle--off" : ""}`}>
            <input type="checkbox" checked={!hidden.has(e)} onChange={() => toggle(e)} />
            <span className="legend__swatch" style={{ background: EMOTION_COLORS[e] }} aria-hidden="true" />
            {EMOTION_LABELS[e]}
          </label>
        ))}
      </fieldset>
      <div className="chart__canvas" style={{ height: 320 }} role="img" aria-label={`Timeline of expression probabilities over ${maxT.toFixed(1)} seconds`}>
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 640, height: 300 }}>
          <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e3e0d8" />
            <XAxis
              dataKey="t"
              type="number"
              domain={[0, "dataMax"]}
              tickFormatter={(v: number) => `${Math.round(v * 10) / 10}s`}
              tick={{ fontSize: 12, fill: "#4a5560" }}
              label={{ value: "Time in the video (seconds)", position: "insideBottom", offset: -10, fontSize: 12, fill: "#4a5560" }}
            />
            <YAxis domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={(v: number) => formatPercent(v)} width={44} tick={{ fontSize: 12, fill: "#4a5560" }} />
            <Tooltip
              labelFormatter={(v) => `${Number(v).toFixed(1)} s`}
              formatter={(value, name) => [value == null ? "no face" : formatPercent(Number(value), 1), String(name)]}
              contentStyle={{ borderRadius: 10, border: "1px solid #e3e0d8" }}
            />
            {EMOTIONS.filter((e) => !hidden.has(e)).map((e) => (
              <Line
                key={e}
                type="monotone"
                dataKey={e}
                name={EMOTION_LABELS[e]}
                stroke={EMOTION_COLORS[e]}
                strokeWidth={2.2}
                dot={false}
                connectNulls={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="chart__caption">
        The model's estimate for each expression at each sampled moment. Gaps mean no face was found at that moment.
      </figcaption>
    </figure>
  );
}
