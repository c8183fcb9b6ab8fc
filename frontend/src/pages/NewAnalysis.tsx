import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { getConfig, uploadVideo, type UploadHandle } from "../api/analyses";
import { ApiError } from "../api/client";
import type { PublicConfig } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { ProgressBar } from "../components/ProgressBar";
import { Recorder } from "../components/Recorder";
import { PageLoading } from "../components/Spinner";
import { Tabs, type TabItem } from "../components/Tabs";
import { Uploader } from "../components/Uploader";
import { usePageTitle } from "../lib/usePageTitle";

type Mode = "record" | "upload";

const SOURCE_TABS: readonly TabItem<Mode>[] = [
  { id: "record", label: "Record with webcam" },
  { id: "upload", label: "Upload a video" },
];

const FPS_CHOICES = [1, 2, 5, 10];

export function NewAnalysis() {
  usePageTitle("New analysis");
  const navigate = useNavigate();
  const location = useLocation();
  const { user } = useAuth();
  const welcome = (location.state as { welcome?: boolean } | null)?.welcome;
  const [config, setConfig] = useState<PublicConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>("record");
  const [sampleFps, setSampleFps] = useState<number | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const uploadRef = useRef<UploadHandle | null>(null);

  const fetchConfig = useCallback(() => {
    getConfig()
      .then((c) => {
        setConfig(c);
        setSampleFps((v) => v ?? c.default_sample_fps);
      })
      .catch((e) => setConfigError(e instanceof ApiError ? e.message : "We couldn't load the upload settings."));
  }, []);
  const loadConfig = () => {
    setConfigError(null);
    fetchConfig();
  };
  useEffect(fetchConfig, [fetchConfig]);
  useEffect(() => () => uploadRef.current?.abort(), []);

  const busy = progress != null;

  const submit = async (file: Blob, filename: string) => {
    setUploadError(null);
    setProgress(0);
    const handle = uploadVideo(file, filename, { sampleFps: sampleFps ?? undefined, onProgress: setProgress });
    uploadRef.current = handle;
    try {
      const created = await handle.promise;
      navigate(`/analyses/${created.id}`, { state: { justUploaded: true, filename } });
    } catch (e) {
      setUploadError(e instanceof ApiError ? e.message : "The upload failed. Please try again.");
      setProgress(null);
    } finally {
      uploadRef.current = null;
    }
  };

  if (configError) {
    return (
      <div className="container page page--narrow">
        <h1>New analysis</h1>
        <Alert tone="error" title="We couldn't get ready">
          <p>{configError}</p>
          <button type="button" className="btn btn--ghost btn--small" onClick={loadConfig}>
            Try again
          </button>
        </Alert>
      </div>
    );
  }
  if (!config) return <PageLoading label="Getting ready…" />;

  const fpsChoices = [...new Set([...FPS_CHOICES, config.default_sample_fps])].sort((a, b) => a - b);

  return (
    <div className="container page">
      <div className="page-head">
        <div>
          <h1>New analysis</h1>
          <p className="muted">
            {welcome && user ? `Welcome, ${user.first_name}. ` : ""}Record a short video of your face or upload one you already have.
          </p>
        </div>
      </div>

      <div className="new-layout">
        <section className="panel" aria-label="Video source">
          <Tabs label="How to provide the video" tabs={SOURCE_TABS} selected={mode} onSelect={setMode} idPrefix="source" disabled={busy}>
            {mode === "record" ? (
              <Recorder minSeconds={config.min_record_s} maxSeconds={config.max_record_s} maxBytes={config.max_upload_bytes} faceCheck={config.face_check} busy={busy} onSubmit={submit} />
            ) : (
              <Uploader config={config} busy={busy} onSubmit={submit} />
            )}
          </Tabs>

          {busy && (
            <div className="upload-status">
              <ProgressBar value={progress} label={progress != null && progress >= 1 ? "Upload complete — starting the analysis…" : "Uploading your video…"} testId="upload-progress" />
              <button type="button" className="btn btn--ghost btn--small" onClick={() => uploadRef.current?.abort()} disabled={progress != null && progress >= 1}>
                Cancel upload
              </button>
            </div>
          )}
          {uploadError && (
            <Alert tone="error" title="The video wasn't sent" testId="upload-error">
              {uploadError}
            </Alert>
          )}

          <details className="advanced">
            <summary>Advanced settings</summary>
            <label className="field__label" htmlFor="sample-fps">
              Frames analysed per second
            </label>
            <p className="field__hint" id="sample-fps-hint">
              More frames give a finer timeline but take longer. The default suits most videos.
            </p>
            <select
              id="sample-fps"
              className="field__input field__input--select"
              aria-describedby="sample-fps-hint"
              value={sampleFps ?? config.default_sample_fps}
              onChange={(e) => setSampleFps(Number(e.target.value))}
              disabled={busy}
            >
              {fpsChoices.map((f) => (
                <option key={f} value={f}>
                  {f} per second{f === config.default_sample_fps ? " (default)" : ""}
                </option>
              ))}
            </select>
          </details>
        </section>

        <aside className="panel panel--soft tips" aria-labelledby="tips-title">
          <h2 id="tips-title">For a clear result</h2>
          <ul className="checklist">
            <li>Face the camera with light in front of you, not behind.</li>
            <li>Keep your whole face in view; only one person in the picture.</li>
            <li>
              Between {config.min_record_s} and {config.max_record_s} seconds is enough. Talk, or just sit naturally.
            </li>
          </ul>
          <h3>What happens next</h3>
          <p className="small">
            Your video is analysed on our servers and deleted as soon as processing finishes. You'll see the progress live and
            the report as soon as it's ready. Past reports are in your <Link to="/history">history</Link>.
          </p>
        </aside>
      </div>
    </div>
  );
}
