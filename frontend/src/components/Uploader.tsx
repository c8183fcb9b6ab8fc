import { useId, useRef, useState, type DragEvent } from "react";
import type { PublicConfig } from "../api/types";
import { formatBytes, formatSeconds } from "../lib/format";
import { probeDuration } from "../lib/media";
import { checkDuration, checkVideoFile } from "../lib/validation";
import { Alert } from "./Alert";

interface Props {
  config: PublicConfig;
  busy?: boolean;
  onSubmit: (file: File, filename: string) => void;
}

interface Chosen {
  file: File;
  duration: number | null;
  /** Said before sending: a length outside the suggested range, or one the browser could not read. */
  note: string | null;
  /** Too short to follow an expression: sending it is a deliberate "anyway". */
  short: boolean;
}

/** Pick a video by drag and drop or the file dialog; type, size and length are checked before upload. */
export function Uploader({ config, busy, onSubmit }: Props) {
  const inputId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const exts = config.accepted_extensions.map((e) => (e.startsWith(".") ? e : `.${e}`).toLowerCase());
  const accept = [...exts, ...config.accepted_mime_types].join(",");

  const take = async (file: File | undefined | null) => {
    setError(null);
    setChosen(null);
    if (!file) return;
    const problem = checkVideoFile(file, config);
    if (problem) {
      setError(problem);
      if (inputRef.current) inputRef.current.value = "";
      return;
    }
    setChecking(true);
    const duration = await probeDuration(file);
    setChecking(false);
    const length = checkDuration(duration, config);
    if (length && "refuse" in length) {
      setError(length.refuse);
      if (inputRef.current) inputRef.current.value = "";
      return;
    }
    setChosen({ file, duration, note: length?.note ?? null, short: !!length && "short" in length && !!length.short });
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    const files = e.dataTransfer?.files;
    if (files && files.length > 1) {
      setError("Please drop a single video.");
      return;
    }
    void take(files?.[0]);
  };

  return (
    <div className="uploader">
      <div
        className={`dropzone${dragging ? " dropzone--active" : ""}${busy ? " dropzone--disabled" : ""}`}
        onDragEnter={(e) => {
          e.preventDefault();
          if (!busy) setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          if (e.dataTransfer) e.dataTransfer.dropEffect = busy ? "none" : "copy";
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <div className="dropzone__icon" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="40" height="40">
            <path fill="currentColor" d="M19 15v4H5v-4H3v4a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-4h-2zM12 3l-5 5h3v6h4V8h3l-5-5z" />
          </svg>
        </div>
        <p className="dropzone__title">Drag and drop a video here</p>
        <p className="muted small">
          {exts.join(", ")} · up to {formatBytes(config.max_upload_bytes)} · up to {formatSeconds(config.max_duration_s)}
        </p>
        <input
          ref={inputRef}
          id={inputId}
          type="file"
          className="visually-hidden-input"
          accept={accept}
          disabled={busy}
          onChange={(e) => void take(e.target.files?.[0])}
          data-testid="file-input"
        />
        <label htmlFor={inputId} className="btn btn--ghost">
          Choose a video file
        </label>
      </div>

      {checking && <p className="muted">Checking the video…</p>}
      {error && (
        <Alert tone="error" testId="upload-error">
          {error}
        </Alert>
      )}

      {chosen && (
        <div className="file-card" data-testid="file-card">
          <div className="file-card__info">
            <p className="file-card__name">{chosen.file.name}</p>
            <p className="muted small">
              {formatBytes(chosen.file.size)}
              {chosen.duration != null ? ` · ${formatSeconds(chosen.duration)}` : ""}
            </p>
            {chosen.note && (
              <p className="small file-card__note" data-testid="duration-note" role="status">
                {chosen.note}
              </p>
            )}
          </div>
          <div className="btn-row">
            <button
              type="button"
              className="btn btn--ghost"
              disabled={busy}
              onClick={() => {
                setChosen(null);
                if (inputRef.current) inputRef.current.value = "";
              }}
            >
              Remove
            </button>
            <button type="button" className={`btn ${chosen.short ? "btn--ghost" : "btn--primary"}`} disabled={busy} onClick={() => onSubmit(chosen.file, chosen.file.name)}>
              {chosen.short ? "Analyse it anyway" : "Analyse this video"}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
