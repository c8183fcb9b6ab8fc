import { useState } from "react";
import { getResultCsv } from "../../api/analyses";
import { ApiError } from "../../api/client";
import type { AnalysisResult } from "../../api/types";
import { csvPreamble, exportFilename, exportMeta, type ExportContext } from "../../domain/exportMeta";
import { saveBlob } from "../../lib/download";
import { Alert } from "../Alert";

/** JSON/CSV downloads named by date and file, carrying the notice; and the print / Save as PDF view. */
export function ExportPanel({ result, context }: { result: AnalysisResult; context: ExportContext }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const exportJson = () => {
    const doc = { ...result, export: exportMeta(context) };
    saveBlob(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }), exportFilename(context, "json"));
  };
  const exportCsv = async () => {
    setError(null);
    setBusy(true);
    try {
      const csv = await getResultCsv(context.analysisId);
      saveBlob(new Blob([csvPreamble(context), csv], { type: "text/csv" }), exportFilename(context, "csv"));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "The CSV export failed. Please try again.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel export no-print" aria-labelledby="export-title">
      <div>
        <h2 id="export-title">Keep or share</h2>
        <p className="muted small">
          Print the report or save it as a PDF to show a professional, or download the figures. Every copy carries the date, the
          file name and the notice that this is not a diagnosis.
        </p>
      </div>
      <div className="btn-row">
        <button type="button" className="btn btn--primary" onClick={() => window.print()}>
          Print or save as PDF
        </button>
        <button type="button" className="btn btn--ghost" onClick={exportJson}>
          Download JSON
        </button>
        <button type="button" className="btn btn--ghost" onClick={exportCsv} disabled={busy}>
          {busy ? "Preparing CSV…" : "Download CSV"}
        </button>
      </div>
      {error && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
