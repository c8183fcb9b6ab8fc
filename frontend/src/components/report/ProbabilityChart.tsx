import { useRef, useState, type FocusEvent, type KeyboardEvent } from "react";
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, XAxis, YAxis } from "recharts";
import { EMOTIONS, EMOTION_DASHES, EMOTION_LABELS, emotionColor } from "../../domain/emotions";
import { DISPLAY_SMOOTHING_S, sortedValues, type ProbabilityRow } from "../../domain/frames";
import { moment, percent } from "../../domain/words";

function LineSample({ emotion }: { emotion: (typeof EMOTIONS)[number] }) {
  return (
    <svg width="28" height="10" aria-hidden="true" className="line-sample">
      <line x1="1" y1="5" x2="27" y2="5" stroke={emotionColor(emotion)} strokeWidth="2.5" strokeDasharray={EMOTION_DASHES[emotion]} />
    </svg>
  );
}

/** The values at one moment, largest first, as a sentence for screen readers and a line for the eye. */
function readoutText(row: ProbabilityRow): string {
  const values = sortedValues(row);
  return `${moment(row.t)}: ${values.length ? values.map((v) => `${EMOTION_LABELS[v.emotion]} ${percent(v.value)}`).join(", ") : "not read"}`;
}

/** The readout above the plot (never over the lines): the values at the pointed or chosen moment, largest first. */
function Readout({ row }: { row: ProbabilityRow | null }) {
  if (!row) return <p className="readout readout--hint muted small">Point at the chart, or focus it and use the arrow keys, to read the values at a moment.</p>;
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

const TABBABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]";

/** The first element after `el` (outside it) that Tab would reach. */
function nextTabbable(el: Element): HTMLElement | null {
  for (const c of document.querySelectorAll<HTMLElement>(TABBABLE)) {
    if (el.contains(c) || !(el.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
    if (c.tabIndex >= 0 && c.getClientRects().length > 0) return c;
  }
  return null;
}

const STEP_KEYS: Record<string, (i: number, n: number) => number> = {
  ArrowRight: (i, n) => Math.min(n - 1, i + 1),
  ArrowLeft: (i) => Math.max(0, i - 1),
  PageDown: (i, n) => Math.min(n - 1, i + 5),
  PageUp: (i) => Math.max(0, i - 5),
  Home: () => 0,
  End: (_i, n) => n - 1,
};

/**
 * The seven per-frame probabilities over time (lightly smoothed for reading), each with its own colour and dash
 * pattern; breaks where the face could not be read. One Tab stop: the plot, whose arrow keys step through the moments
 * (the chart library's own keyboard layer, an unlabelled `role=application`, is off).
 */
export function ProbabilityChart({ rows, duration }: { rows: ProbabilityRow[]; duration: number }) {
  const moments = rows.filter((r) => sortedValues(r).length > 0);
  const [at, setAt] = useState<number | null>(null);
  const plot = useRef<HTMLDivElement>(null);
  // Chromium lets Tab into parts of the chart library's SVG (its layers listen for focus); the plot is the one stop:
  // focus arriving inside it from the plot moves on past the chart, from anywhere else lands on the plot.
  const onFocusInside = (e: FocusEvent<HTMLDivElement>) => {
    const box = plot.current;
    if (!box || e.target === box) return;
    if (e.relatedTarget === box) (nextTabbable(box) ?? box).focus();
    else box.focus();
  };
  const row = at == null ? null : (moments[at] ?? null);
  const onKeyDown = (e: KeyboardEvent) => {
    const step = STEP_KEYS[e.key];
    if (!step || !moments.length) return;
    e.preventDefault();
    setAt((i) => step(i ?? -1, moments.length));
  };
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
      <Readout row={row} />
      <p className="sr-only" aria-live="polite" data-testid="probability-live">
        {row ? readoutText(row) : ""}
      </p>
      <div
        className="chart__canvas"
        style={{ height: 300 }}
        role="group"
        tabIndex={0}
        aria-roledescription="chart"
        aria-label={`The seven expression probabilities over time, ${moments.length} moments. Use the left and right arrow keys to step through them, Home and End for the first and last.`}
        ref={plot}
        onKeyDown={onKeyDown}
        onFocus={onFocusInside}
        onBlur={(e) => e.target === plot.current && !plot.current?.contains(e.relatedTarget as Node | null) && setAt(null)}
        data-testid="probability-plot"
      >
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 640, height: 300 }}>
          <LineChart
            data={rows}
            margin={{ top: 12, right: 12, bottom: 16, left: 0 }}
            accessibilityLayer={false}
            onMouseMove={(state) => {
              const t = Number(state?.activeLabel);
              if (!Number.isFinite(t)) return;
              const i = moments.findIndex((m) => m.t === t);
              if (i >= 0) setAt(i);
            }}
            onMouseLeave={() => setAt(null)}
          >
            <CartesianGrid strokeDasharray="3 3" stroke="#e3e0d8" />
            <XAxis dataKey="t" type="number" domain={[0, Math.max(duration, rows[rows.length - 1]?.t ?? 0)]} tickFormatter={(v: number) => moment(v)} tick={{ fontSize: 12, fill: "#4a5560" }} />
            <YAxis domain={[0, 1]} ticks={[0, 0.5, 1]} tickFormatter={(v: number) => percent(v)} width={44} tick={{ fontSize: 12, fill: "#4a5560" }} />
            {row && <ReferenceLine x={row.t} stroke="#1d2a33" strokeWidth={1} ifOverflow="extendDomain" />}
            {EMOTIONS.map((e) => (
              <Line key={e} type="linear" dataKey={e} name={EMOTION_LABELS[e]} stroke={emotionColor(e)} strokeWidth={2.2} strokeDasharray={EMOTION_DASHES[e]} dot={false} activeDot={false} connectNulls={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="chart__caption">
        The model's probability for each expression in each readable frame, lightly smoothed (over about {DISPLAY_SMOOTHING_S} s) so the lines
        can be read. The band above is the most likely expression after brief flickers are smoothed out. Breaks in the lines are moments that could
        not be read.
      </figcaption>
    </figure>
  );
}
