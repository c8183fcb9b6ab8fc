import { Suspense, lazy, useEffect, useRef, useState, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { analysisToEvent, deleteAnalysis, getAnalysis, getResult, watchAnalysis } from "../api/analyses";
import { ApiError } from "../api/client";
import type { Analysis, AnalysisResult, ProgressEvent } from "../api/types";
import { Alert } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ReportSkeleton } from "../components/ReportSkeleton";
import { StatusPanel } from "../components/StatusPanel";
import { failureMessage, type Failure } from "../lib/failures";
import { focusElement } from "../lib/focus";
import { formatDateTime } from "../lib/format";
import { notifyReady } from "../lib/notify";
import { usePageTitle } from "../lib/usePageTitle";

// The report is a separate chunk, requested as soon as this page opens (while the job runs), not when the result arrives.
const loadReport = () => import("../components/ResultView");
const ResultView = lazy(() => loadReport().then((m) => ({ default: m.ResultView })));

/** Why there is no report: the reason as the main sentence, then a next step that can help, then its button. */
function FailureExplained({ failure, code, testId = "failure", children }: { failure: Failure; code: string | null | undefined; testId?: string; children?: ReactNode }) {
  return (
    <section className="panel failure" aria-label="Why there is no report" data-testid={testId} data-code={code ?? ""}>
      <p className="failure__reason" data-testid="failure-reason">
        {failure.reason}
      </p>
      <p className="failure__next" data-testid="failure-next">
        <strong>What to do: </strong>
        {failure.next}
      </p>
      <Link to={failure.action.to} className="btn btn--primary">
        {failure.action.label}
      </Link>
      {failure.detail && <p className="muted small">Details: {failure.detail}</p>}
      {children}
    </section>
  );
}

export function AnalysisPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const [analysis, setAnalysis] = useState<Analysis | null>(null);
  const [event, setEvent] = useState<ProgressEvent | null>(null);
  const [transport, setTransport] = useState<"push" | "polling" | null>(null);
  const [result, setResult] = useState<AnalysisResult | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [resultError, setResultError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  // Reloading (a new id, or "Try again") clears the page first: state adjusted while rendering, not in an effect.
  const [attempt, setAttempt] = useState(0);
  const [shown, setShown] = useState({ id, attempt });
  if (shown.id !== id || shown.attempt !== attempt) {
    setShown({ id, attempt });
    setLoadError(null);
    setAnalysis(null);
    setEvent(null);
    setResult(null);
    setResultError(null);
  }
  const load = () => setAttempt((n) => n + 1);

  useEffect(() => {
    let live = true;
    getAnalysis(id)
      .then((a) => {
        if (!live) return;
        setAnalysis(a);
        setEvent(analysisToEvent(a));
      })
      .catch((e) => live && setLoadError(e instanceof ApiError ? e : new ApiError(0, "We couldn't load this analysis.")));
    return () => {
      live = false;
    };
  }, [id, attempt]);
  useEffect(() => {
    void loadReport().catch(() => undefined);
  }, []);

  const status = event?.status;
  const running = status === "queued" || status === "processing";

  // Follow a running analysis live.
  useEffect(() => {
    if (!analysis || !running) return;
    const stop = watchAnalysis(analysis.id, {
      onEvent: (ev) => setEvent((prev) => ({ ...prev, ...ev })),
      onTransport: setTransport,
      onError: (e) => setLoadError(e),
    });
    return stop;
    // Only (re)subscribe when the analysis changes or it starts running.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [analysis?.id, running]);

  // Fetch the result once the analysis has succeeded.
  useEffect(() => {
    if (status !== "succeeded" || result || resultError) return;
    let cancelled = false;
    getResult(id)
      .then((r) => !cancelled && setResult(r))
      .catch((e) => !cancelled && setResultError(e instanceof ApiError ? e.message : "We couldn't load the report."));
    return () => {
      cancelled = true;
    };
  }, [status, id, result, resultError]);

  const failedNow = event?.status === "failed";
  const noFaceNow = event?.status === "succeeded" && result != null && result.summary.frames_with_face === 0;
  const heading = loadError
    ? loadError.status === 404 || loadError.status === 422
      ? "Analysis not found"
      : "We couldn't load this analysis"
    : !event
      ? null
      : event.status === "succeeded"
        ? noFaceNow
          ? failureMessage("no_face").title
          : result
            ? "Your expression report"
            : "Loading your report"
        : failedNow
          ? failureMessage(event.error_code).title
          : "Analysing your video";
  usePageTitle(heading === "Your expression report" ? "Your report is ready" : (heading ?? "Analysis"));

  // A state change that replaces the page's content moves focus to its new heading; a finished report also tells a
  // hidden tab (when the user allowed notifications).
  const lastHeading = useRef<string | null>(null);
  const sawRunning = useRef(false);
  useEffect(() => {
    if (heading === "Analysing your video") sawRunning.current = true;
    if (!heading || heading === lastHeading.current) return;
    const previous = lastHeading.current;
    lastHeading.current = heading;
    if (previous === null) return; // the first heading: Layout focuses it after navigation
    focusElement(document.querySelector<HTMLElement>("main h1"));
    if (heading === "Your expression report" && sawRunning.current) notifyReady(analysis?.filename ?? null);
  }, [heading, analysis?.filename]);

  const onDelete = async () => {
    setDeleting(true);
    setDeleteError(null);
    try {
      await deleteAnalysis(id);
      navigate("/history", { replace: true, state: { flash: "The analysis was deleted." } });
    } catch (e) {
      setDeleteError(e instanceof ApiError ? e.message : "We couldn't delete it. Please try again.");
      setDeleting(false);
      setConfirmDelete(false);
    }
  };

  if (loadError) {
    const notFound = loadError.status === 404 || loadError.status === 422;
    return (
      <div className="container page page--narrow">
        <h1>{notFound ? "Analysis not found" : "We couldn't load this analysis"}</h1>
        <Alert tone="error">{notFound ? "It may have been deleted, or the link is wrong." : loadError.message}</Alert>
        <div className="btn-row">
          {!notFound && (
            <button type="button" className="btn btn--primary" onClick={load}>
              Try again
            </button>
          )}
          <Link to="/history" className="btn btn--ghost">
            Back to history
          </Link>
        </div>
      </div>
    );
  }
  if (!analysis || !event) return <ReportSkeleton withHead label="Loading the analysis…" />;

  const failed = event.status === "failed";
  const fail = failed ? failureMessage(event.error_code, event.error) : null;
  const noFaceText = failureMessage("no_face");
  // The worker may finish successfully without seeing any face; that is not a report worth showing.
  const noFace = event.status === "succeeded" && result != null && result.summary.frames_with_face === 0;
  const title = heading === "Loading your report" ? "Your expression report" : (heading ?? "");

  return (
    <div className="container page page--analysis">
      <div className="page-head">
        <div>
          <p className="eyebrow">
            <Link to="/history">History</Link> / Analysis
          </p>
          <h1>{title}</h1>
          <p className="muted">
            {analysis.filename ? `${analysis.filename} · ` : ""}
            {formatDateTime(analysis.created_at)}
          </p>
        </div>
        <div className="btn-row">
          <Link to="/new" className="btn btn--ghost">
            New analysis
          </Link>
          <button type="button" className="btn btn--danger-ghost" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      </div>

      {deleteError && <Alert tone="error">{deleteError}</Alert>}

      {running && <StatusPanel event={event} transport={transport} analysis={analysis} />}

      {failed && fail && <FailureExplained failure={fail} code={event.error_code} />}

      {event.status === "succeeded" && (
        <>
          {resultError && (
            <Alert tone="error" title="We couldn't load the report">
              <p>{resultError}</p>
              <button
                type="button"
                className="btn btn--ghost btn--small"
                onClick={() => setResultError(null)}
              >
                Try again
              </button>
            </Alert>
          )}
          {!result && !resultError && <ReportSkeleton />}
          {noFace && (
            <FailureExplained failure={noFaceText} code="no_face" testId="no-face">
              <p className="muted small">
                We looked at {result.summary.frames_analyzed} frames from {result.summary.duration_s.toFixed(1)} seconds of video.
              </p>
            </FailureExplained>
          )}
          {result && !noFace && (
            <Suspense fallback={<ReportSkeleton />}>
              <ResultView analysisId={analysis.id} result={result} filename={analysis.filename} createdAt={analysis.created_at} />
            </Suspense>
          )}
        </>
      )}

      <ConfirmDialog
        open={confirmDelete}
        title="Delete this analysis?"
        confirmLabel="Delete analysis"
        danger
        busy={deleting}
        onConfirm={onDelete}
        onCancel={() => setConfirmDelete(false)}
      >
        <p>The report and its face thumbnails will be removed for good. This can't be undone.</p>
      </ConfirmDialog>
    </div>
  );
}
