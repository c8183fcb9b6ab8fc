/** Names and metadata of exported reports: the date and file name in the name, the notice inside. */
import { DISCLAIMER } from "./notice";

export interface ExportContext {
  analysisId: string;
  filename: string | null;
  createdAt: string;
  personLabel?: string | null;
  /** The shown person's track_id: the report numbers people seen longest first, the result's people[].label by first appearance. */
  personTrackId?: number | null;
}

/** "2026-11-24" (UTC) from an ISO time; "undated" when it cannot be read. */
export function isoDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "undated" : d.toISOString().slice(0, 10);
}

/** "bloomwell-2026-11-24-fer_woman2.json": date and the video's name (without its extension, made file-safe). */
export function exportFilename(ctx: ExportContext, ext: "json" | "csv"): string {
  const base = (ctx.filename ?? "").replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  return `bloomwell-${isoDate(ctx.createdAt)}-${base || ctx.analysisId.slice(0, 8)}.${ext}`;
}

/** The block added to the JSON export (under "export") and, as comment lines, above the CSV. */
export function exportMeta(ctx: ExportContext, now: Date = new Date()) {
  return {
    disclaimer: DISCLAIMER,
    analysis_id: ctx.analysisId,
    filename: ctx.filename,
    analysed_at: ctx.createdAt,
    exported_at: now.toISOString(),
    ...(ctx.personLabel ? { person_shown: ctx.personLabel } : {}),
    ...(ctx.personLabel && ctx.personTrackId != null ? { person_shown_track_id: ctx.personTrackId } : {}),
  };
}

/** "# key: value" lines for the top of a CSV file (spreadsheet programs show them; `comment="#"` skips them). */
export function csvPreamble(ctx: ExportContext, now: Date = new Date()): string {
  const meta = exportMeta(ctx, now);
  return (
    Object.entries(meta)
      .map(([k, v]) => `# ${k}: ${String(v ?? "").replace(/[\r\n]+/g, " ")}`)
      .join("\n") + "\n"
  );
}
