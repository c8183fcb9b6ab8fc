import { Suspense, lazy, useEffect, useMemo, useState } from "react";
import { getConfig } from "../api/analyses";
import type { AnalysisResult } from "../api/types";
import { probabilityRows, readableFaces } from "../domain/frames";
import { defaultPerson, isReadable, orderPeople } from "../domain/people";
import { DISCLAIMER } from "../domain/notice";
import { observations } from "../domain/observations";
import { ribbonBands } from "../domain/ribbon";
import { keyFigures, summarySentences, type GapPhrases } from "../domain/summary";
import { timeSplit } from "../domain/timeline";
import { formatDateTime } from "../lib/format";
import { usePrintOpensDetails } from "../lib/usePrintOpensDetails";
import { FaceCrops } from "./FaceCrops";
import { DistributionBars } from "./report/DistributionBars";
import { ExportPanel } from "./report/ExportPanel";
import { Observations } from "./report/Observations";
import { PeoplePicker } from "./report/PeoplePicker";
import { ReportDetails } from "./report/ReportDetails";
import { Ribbon } from "./report/Ribbon";
import "./report/report.css";

// The line chart (and its chart library) is only needed when asked for.
const ProbabilityChart = lazy(() => import("./report/ProbabilityChart").then((m) => ({ default: m.ProbabilityChart })));

export interface ResultViewProps {
  analysisId: string;
  result: AnalysisResult;
  filename?: string | null;
  createdAt?: string;
}

/** The report on one person of a v2 result: summary first, then the band, the distribution and observations. */
export function ResultView({ analysisId, result, filename = null, createdAt = "" }: ResultViewProps) {
  // only people whose expression could be read have a report to pick (numbered among themselves, by appearance);
  // the others are mentioned in one line
  const people = useMemo(() => orderPeople({ people: result.people.filter(isReadable), primary_track_id: result.primary_track_id }), [result]);
  const unreadable = result.people.length - people.length;
  const [trackId, setTrackId] = useState<number | null>(() => defaultPerson(people)?.person.track_id ?? null);
  const shown = people.find((p) => p.person.track_id === trackId) ?? defaultPerson(people);
  const [phrases, setPhrases] = useState<GapPhrases>({});
  const [showLines, setShowLines] = useState(false);
  useEffect(() => {
    let live = true;
    getConfig()
      .then((c) => live && setPhrases(c.gap_phrases ?? {}))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const { summary } = result;
  const person = shown?.person ?? null;
  // the person's readable faces frame by frame: how sure each stretch of the band is, and the probability lines
  const faces = useMemo(() => (person ? readableFaces(result.frames, person.track_id) : []), [person, result.frames]);
  const bands = useMemo(() => (person ? ribbonBands(person.segments, summary.duration_s) : []), [person, summary.duration_s]);
  const sentences = useMemo(() => (person ? summarySentences(person, bands, phrases) : []), [person, bands, phrases]);
  const figures = useMemo(() => (person ? keyFigures(person, summary.duration_s) : []), [person, summary.duration_s]);
  const obs = useMemo(() => observations(person?.indicators ?? null), [person]);
  const split = useMemo(() => (person ? timeSplit(person) : { rows: [], unclear: 0 }), [person]);
  // a line breaks where two readable frames are further apart than two sampling steps
  const breakS = 2 / Math.max(summary.sample_fps, 0.1);
  const lines = useMemo(() => (showLines ? probabilityRows(faces, breakS) : []), [faces, breakS, showLines]);
  usePrintOpensDetails();
  const many = people.length > 1;
  const who = many && shown ? shown.label : null;

  if (!person || !shown) return null;
  return (
    <div className="result" data-testid="result">
      <div className="print-only print-head">
        <strong>Bloomwell expression report</strong>
        <span>
          {filename ?? "Video"} · analysed {formatDateTime(createdAt)}
          {who ? ` · ${who} of ${people.length}` : ""}
        </span>
        <span>{DISCLAIMER}</span>
      </div>

      {many && <PeoplePicker analysisId={analysisId} people={people} frames={result.frames} selected={person.track_id} onSelect={setTrackId} unreadable={unreadable} />}
      {!many && unreadable > 0 && (
        <p className="muted small" data-testid="unreadable-people">
          {unreadable === 1 ? "One other face was" : `${unreadable} other faces were`} seen too briefly or too unclearly to read; this report is about the
          person seen longest.
        </p>
      )}

      <section className="panel summary" aria-labelledby="summary-title" data-testid="summary">
        <h2 id="summary-title">{who ? `In short: ${who}` : "In short"}</h2>
        <p className="summary__text" data-testid="summary-text" aria-live="polite">
          {sentences.join(" ")}
        </p>
        {figures.length > 0 && (
          <dl className="figures">
            {figures.map((f) => (
              <div key={f.key} className="figure" data-testid={`figure-${f.key}`}>
                <dt>{f.label}</dt>
                <dd className="figure__value" data-testid={f.key === "dominant" ? "dominant-emotion" : undefined}>
                  {f.value}
                </dd>
                <dd className="figure__text">{f.explanation}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Expression over time</h2>
        <Ribbon bands={bands} duration={summary.duration_s} phrases={phrases} />
        <button type="button" className="btn btn--ghost btn--small no-print" aria-expanded={showLines} aria-controls="probability-lines" onClick={() => setShowLines((v) => !v)}>
          {showLines ? "Hide the seven probability lines" : "Show the seven probability lines"}
        </button>
        <div id="probability-lines">
          {showLines && (
            <Suspense fallback={<p className="muted small">Loading the chart…</p>}>
              <ProbabilityChart rows={lines} duration={summary.duration_s} />
            </Suspense>
          )}
        </div>
      </section>

      <div className="two-col two-col--result">
        <section className="panel" aria-labelledby="dist-title">
          <h2 id="dist-title">How the time divides</h2>
          <DistributionBars split={split} observedS={person.indicators?.observed_s ?? 0} />
        </section>
        <Observations items={obs} />
      </div>

      <section className="panel faces-panel" aria-labelledby="faces-title">
        <h2 id="faces-title">What the model looked at</h2>
        <p className="muted small">A few of the readable face pictures{who ? ` of ${who}` : ""}, with the model's reading of that single frame.</p>
        <FaceCrops analysisId={analysisId} frames={result.frames} person={person} />
      </section>

      <ReportDetails summary={summary} person={person} split={split} />

      <ExportPanel result={result} context={{ analysisId, filename, createdAt, personLabel: who, personTrackId: who ? person.track_id : null }} />
    </div>
  );
}
