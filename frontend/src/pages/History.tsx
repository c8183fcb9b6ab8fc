import { useCallback, useEffect, useState } from "react";
import { Link, useLocation } from "react-router-dom";
import { deleteAnalysis, getAnalysis, listAnalyses } from "../api/analyses";
import { ApiError } from "../api/client";
import type { Analysis, HistoryItem } from "../api/types";
import { Alert } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { HistoryThumb } from "../components/HistoryThumb";
import { HistoryTrend } from "../components/HistoryTrend";
import { Spinner } from "../components/Spinner";
import { emotionLabel } from "../domain/emotions";
import { splitFailed } from "../domain/trend";
import { focusElement } from "../lib/focus";
import { formatDateTime } from "../lib/format";
import { usePageTitle } from "../lib/usePageTitle";
import "./History.css";

const STATUS_LABEL: Record<Analysis["status"], string> = {
  queued: "Queued",
  processing: "Analysing",
  succeeded: "Ready",
  failed: "Failed",
};

/** `items` with the list-only fields of the succeeded analyses in `listed` (the rest of each item kept as is). */
function withListExtras(items: HistoryItem[], listed: readonly HistoryItem[]): HistoryItem[] {
  const byId = new Map(listed.filter((l) => l.status === "succeeded").map((l) => [l.id, l]));
  return items.map((a) => {
    const l = byId.get(a.id);
    return l ? { ...a, thumbnail_url: l.thumbnail_url, negative_share: l.negative_share } : a;
  });
}

export function History() {
  usePageTitle("Your analyses");
  const location = useLocation();
  const flash = (location.state as { flash?: string } | null)?.flash;
  const [items, setItems] = useState<HistoryItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [toDelete, setToDelete] = useState<HistoryItem | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [notice, setNotice] = useState<string | null>(flash ?? null);

  // Every state update happens once the request settles (so the first load can start from an effect).
  const fetchPage = useCallback(
    (after: string | null) =>
      listAnalyses(after)
        .then((page) => {
          setItems((prev) => {
            const base = after ? prev : [];
            const seen = new Set(base.map((a) => a.id));
            return [...base, ...page.items.filter((a) => !seen.has(a.id))];
          });
          setCursor(page.next_cursor);
          setLoaded(true);
        })
        .catch((e) => setError(e instanceof ApiError ? e.message : "We couldn't load your analyses."))
        .finally(() => setLoading(false)),
    [],
  );
  const loadPage = (after: string | null) => {
    setLoading(true);
    setError(null);
    void fetchPage(after);
  };

  useEffect(() => {
    void fetchPage(null);
  }, [fetchPage]);

  // Keep queued / running analyses up to date while the list is open.
  const runningIds = items
    .filter((a) => a.status === "queued" || a.status === "processing")
    .slice(0, 5)
    .map((a) => a.id)
    .join(",");
  useEffect(() => {
    if (!runningIds) return;
    const timer = setInterval(() => {
      for (const id of runningIds.split(",")) {
        getAnalysis(id)
          .then((fresh) => {
            setItems((prev) => prev.map((a) => (a.id === fresh.id ? { ...a, ...fresh } : a)));
            // the thumbnail and negative share come with the list only: read them once it has finished
            if (fresh.status === "succeeded") return listAnalyses(null).then((page) => setItems((prev) => withListExtras(prev, page.items)));
          })
          .catch(() => undefined);
      }
    }, 4000);
    return () => clearInterval(timer);
  }, [runningIds]);

  const onDelete = async () => {
    if (!toDelete) return;
    setDeleting(true);
    // where focus goes once the row is gone: the next row as shown (else the one before it), else the page heading
    const shown = [...splitFailed(items).active, ...splitFailed(items).failed];
    const at = shown.findIndex((a) => a.id === toDelete.id);
    const neighbour = shown[at + 1] ?? shown[at - 1] ?? null;
    try {
      await deleteAnalysis(toDelete.id);
      setItems((prev) => prev.filter((a) => a.id !== toDelete.id));
      setNotice("The analysis was deleted.");
      setToDelete(null);
      // the dialog hands focus back to its trigger, which is gone with the item: land on the neighbouring row instead
      setTimeout(() => {
        const row = neighbour && document.querySelector<HTMLElement>(`[data-testid=history-item][data-id="${neighbour.id}"] .history-item__title`);
        focusElement(row ?? document.querySelector<HTMLElement>("main h1"));
      }, 0);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "We couldn't delete it. Please try again.");
      setToDelete(null);
    } finally {
      setDeleting(false);
    }
  };

  const { active, failed } = splitFailed(items);
  const renderItem = (a: HistoryItem) => (
    <li key={a.id} className="history-item" data-testid="history-item" data-id={a.id}>
      <div className="history-item__main">
        <HistoryThumb path={a.status === "succeeded" ? a.thumbnail_url : null} />
        <div className="history-item__text">
          <Link to={`/analyses/${a.id}`} className="history-item__title">
            {formatDateTime(a.created_at)}
          </Link>
          <span className="muted small history-item__file">{a.filename || "Recording"}</span>
        </div>
      </div>
      <span className={`badge badge--${a.status}`}>{STATUS_LABEL[a.status] ?? a.status}</span>
      <span className="history-item__emotion">
        {a.dominant_emotion ? <span className={`chip chip--${a.dominant_emotion}`}>{emotionLabel(a.dominant_emotion)}</span> : <span className="muted small">—</span>}
      </span>
      <span className="history-item__actions">
        <Link to={`/analyses/${a.id}`} className="btn btn--ghost btn--small" aria-label={`Open analysis from ${formatDateTime(a.created_at)}`}>
          Open
        </Link>
        <button type="button" className="btn btn--danger-ghost btn--small" onClick={() => setToDelete(a)} aria-label={`Delete analysis from ${formatDateTime(a.created_at)}`}>
          Delete
        </button>
      </span>
    </li>
  );

  return (
    <div className="container page">
      <div className="page-head">
        <div>
          <h1>Your analyses</h1>
          <p className="muted">Newest first. Only you can see these.</p>
        </div>
        <Link to="/new" className="btn btn--primary">
          New analysis
        </Link>
      </div>

      {notice && (
        <Alert tone="success" testId="history-notice">
          {notice}
        </Alert>
      )}
      {error && (
        <Alert tone="error" title="Something went wrong">
          <p>{error}</p>
          <button type="button" className="btn btn--ghost btn--small" onClick={() => loadPage(loaded ? cursor : null)}>
            Try again
          </button>
        </Alert>
      )}

      {!loaded && loading && (
        <div className="page-loading">
          <Spinner label="Loading your analyses…" />
        </div>
      )}

      {loaded && items.length === 0 && (
        <div className="empty-state panel" data-testid="history-empty">
          <h2>No analyses yet</h2>
          <p className="muted">Record a short video or upload one to get your first expression report.</p>
          <Link to="/new" className="btn btn--primary">
            Start your first analysis
          </Link>
        </div>
      )}

      <HistoryTrend items={items} />

      {active.length > 0 && (
        <ul className="history" data-testid="history-list">
          {active.map(renderItem)}
        </ul>
      )}

      {failed.length > 0 && (
        <section className="history-failed" aria-labelledby="failed-title" data-testid="history-failed">
          <h2 id="failed-title">Didn't finish</h2>
          <p className="muted small">These videos couldn't be analysed. Open one to see why, or delete it.</p>
          <ul className="history history--failed">{failed.map(renderItem)}</ul>
        </section>
      )}

      {cursor && (
        <div className="load-more">
          <button type="button" className="btn btn--ghost" onClick={() => loadPage(cursor)} disabled={loading}>
            {loading ? "Loading…" : "Show older analyses"}
          </button>
        </div>
      )}

      <p className="muted small history-foot">
        Want to remove everything? You can delete your account on the <Link to="/account">account page</Link>.
      </p>

      <ConfirmDialog
        open={!!toDelete}
        title="Delete this analysis?"
        confirmLabel="Delete analysis"
        danger
        busy={deleting}
        onConfirm={onDelete}
        onCancel={() => setToDelete(null)}
      >
        <p>
          The report from {toDelete ? formatDateTime(toDelete.created_at) : ""} and its face thumbnails will be removed for good.
        </p>
      </ConfirmDialog>
    </div>
  );
}
