import { useMemo, useState } from "react";
import { getResultCsv } from "../api/analyses";
import { ApiError } from "../api/client";
import type { AnalysisResult } from "../api/types";
import { saveBlob } from "../lib/download";
import { EMOTION_COLORS, distributionRows, emotionLabel, isEmotion, timelineRows } from "../lib/emotions";
import { formatPercent, formatSeconds } from "../lib/format";
import { describeIndicators } from "../lib/indicators";
import { Alert } from "./Alert";
import { DistributionChart } from "./charts/DistributionChart";
import { TimelineChart } from "./charts/TimelineChart";
import { Disclaimer } from "./Disclaimer";
import { FaceCrops } from "./FaceCrops";

export function ResultView({ analysisId, result }: { analysisId: string; result: AnalysisResult }) {
  const { summary, frames } = result;
  const dist = useMemo(() => distributionRows(summary.distribution, summary.mean_probabilities), [summary]);
  const timeline = useMemo(() => timelineRows(frames), [frames]);
  const observations = useMemo(() => describeIndicators(summary.indicators, summary), [summary]);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState<"csv" | null>(null);
  const dominant = summary.dominant_emotion;
  const dominantColor = isEmotion(dominant) ? EMOTION_COLORS[dominant] : "#7a8794";
  const faceShare = summary.frames_analyzed ? summary.frames_with_face / summary.frames_analyzed : 0;

  const exportJson = () => {
    const blob = new Blob([JSON.stringify(result, null, 2)], { type: "application/json" });
    saveBlob(blob, `bloomwell-${analysisId}.json`);
  };
  const exportCsv = async () => {
    setExportError(null);
    setExporting("csv");
    try {
      saveBlob(await getResultCsv(analysisId), `bloomwell-${analysisId}.csv`);
    } catch (e) {
      setExportError(e instanceof ApiError ? e.message : "The CSV export failed. Please try again.");
    } finally {
      setExporting(null);
    }
  };

  return (
    <div className="result" data-testid="result">
      <section className="summary-grid" aria-label="Summary">
        <div className="stat stat--hero" style={{ borderColor: dominantColor }}>
          <span className="stat__label">Most frequent expression</span>
          <span className="stat__value" data-testid="dominant-emotion">
            <span className="stat__swatch" style={{ background: dominantColor }} aria-hidden="true" />
            {dominant ? emotionLabel(dominant) : "No face found"}
          </span>
          {dominant && <span className="muted small">in {formatPercent(summary.distribution[dominant as keyof typeof summary.distribution] ?? 0)} of the moments with a face</span>}
        </div>
        <div className="stat">
          <span className="stat__label">Frames analysed</span>
          <span className="stat__value" data-testid="frames-analyzed">
            {summary.frames_analyzed}
          </span>
          <span className="muted small">
            {summary.frames_with_face} with a face ({formatPercent(faceShare)})
          </span>
        </div>
        <div className="stat">
          <span className="stat__label">Video length</span>
          <span className="stat__value">{formatSeconds(summary.duration_s)}</span>
          <span className="muted small">{summary.sample_fps} frames sampled per second</span>
        </div>
        <div className="stat">
          <span className="stat__label">Model</span>
          <span className="stat__value stat__value--small" data-testid="model-info">
            {summary.model.name}
          </span>
          <span className="muted small">version {summary.model.version}</span>
        </div>
      </section>

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Expressions over time</h2>
        {timeline.length ? <TimelineChart rows={timeline} /> : <p className="muted">No frames were analysed.</p>}
      </section>

      <div className="two-col two-col--result">
        <section className="panel" aria-labelledby="dist-title">
          <h2 id="dist-title">Distribution</h2>
          <DistributionChart rows={dist} />
          <details className="data-table">
            <summary>Show the numbers</summary>
            <table>
              <caption className="sr-only">Share of moments and mean probability per expression</caption>
              <thead>
                <tr>
                  <th scope="col">Expression</th>
                  <th scope="col">Most likely in</th>
                  <th scope="col">Mean probability</th>
                </tr>
              </thead>
              <tbody>
                {dist.map((r) => (
                  <tr key={r.emotion}>
                    <th scope="row">{r.label}</th>
                    <td>{formatPercent(r.share, 1)}</td>
                    <td>{formatPercent(r.mean, 1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </section>

        <section className="panel" aria-labelledby="obs-title">
          <h2 id="obs-title">Observations</h2>
          <p className="muted small">What the model observed in this video — not a judgement about you.</p>
          <ul className="observations" data-testid="observations">
            {observations.map((o) => (
              <li key={o.key} className="observation">
                <div className="observation__head">
                  <span className="observation__title">{o.title}</span>
                  <span className="observation__value">{o.value}</span>
                </div>
                <p>{o.text}</p>
              </li>
            ))}
          </ul>
          <Disclaimer />
        </section>
      </div>

      <section className="panel" aria-labelledby="faces-title">
        <h2 id="faces-title">What the model looked at</h2>
        <p className="muted small">A few of the face thumbnails the model analysed, with its most likely expression.</p>
        <FaceCrops analysisId={analysisId} frames={frames} />
      </section>

      <section className="panel export" aria-labelledby="export-title">
        <div>
          <h2 id="export-title">Export</h2>
          <p className="muted small">Download the full report to keep it or share it with a professional.</p>
        </div>
        <div className="btn-row">
          <button type="button" className="btn btn--ghost" onClick={exportJson}>
            Download JSON
          </button>
          <button type="button" className="btn btn--ghost" onClick={exportCsv} disabled={exporting === "csv"}>
            {exporting === "csv" ? "Preparing CSV…" : "Download CSV"}
          </button>
        </div>
        {exportError && <Alert tone="error">{exportError}</Alert>}
      </section>
    </div>
  );
}
