import fixWebmDuration from "fix-webm-duration";
import { useCallback, useEffect, useRef, useState } from "react";
import type { FaceCheckConfig } from "../api/types";
import { HINTS, readableSeconds, recordingVerdict } from "../facecheck/hints";
import { useFaceCheck, type FaceCheck } from "../facecheck/useFaceCheck";
import { focusElement } from "../lib/focus";
import { formatClock } from "../lib/format";
import { cameraErrorMessage, extensionForMime, pickRecorderMimeType } from "../lib/media";
import { Alert } from "./Alert";
import "./Recorder.css";

type Phase = "idle" | "requesting" | "blocked" | "ready" | "countdown" | "recording" | "recorded";

const COUNTDOWN_FROM = 3;

/** The recorder's heading per phase; focus moves to it when the phase changes after a click. */
const TITLES: Record<Phase, string> = {
  idle: "Record a short video",
  requesting: "Record a short video",
  blocked: "The camera is not available",
  ready: "Camera is on",
  countdown: "Get ready",
  recording: "Recording",
  recorded: "Your recording",
};

/** Mean luma (0-255) of the video's current frame, sampled small; null when it cannot be read. */
function frameLuma(video: HTMLVideoElement, canvas: HTMLCanvasElement): number | null {
  if (!video.videoWidth) return null;
  canvas.width = 32;
  canvas.height = 24;
  let ctx: CanvasRenderingContext2D | null;
  try {
    ctx = canvas.getContext("2d", { willReadFrequently: true });
  } catch {
    return null;
  }
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, 32, 24);
  const px = ctx.getImageData(0, 0, 32, 24).data;
  let sum = 0;
  for (let i = 0; i < px.length; i += 4) sum += 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
  return sum / (px.length / 4);
}

/** Plain advice from the preview's brightness (the worker cannot read faces in the dark or against the light). */
export function lightHint(luma: number | null): { ok: boolean; text: string } | null {
  if (luma == null) return null;
  if (luma < 50) return { ok: false, text: "It looks dark: turn on a light in front of you, so your face can be read." };
  if (luma > 215) return { ok: false, text: "It looks very bright: move away from a window or strong light behind you." };
  return { ok: true, text: "Light looks fine. Keep your whole face in the picture." };
}

/** The live check's verdict in words, announced when it changes. */
function FaceHint({ check }: { check: FaceCheck }) {
  const hint = HINTS[check.state];
  const more = check.state === "ok" && check.faces > 1 ? ` We also see ${check.faces - 1 === 1 ? "another face" : `${check.faces - 1} other faces`}: the report follows the person seen longest.` : "";
  return (
    <p className={`light-hint${hint.ok ? "" : " light-hint--warn"}`} data-testid="face-hint" data-state={check.state} role="status">
      {hint.text}
      {more}
    </p>
  );
}

/** The largest face's box over the (mirrored) preview, green when readable, amber when not, with a short badge. */
function FaceOverlay({ check }: { check: FaceCheck }) {
  const { face, frame, state } = check;
  const hint = HINTS[state];
  return (
    <>
      {frame && face && (
        <svg className="face-overlay" viewBox={`0 0 ${frame.width} ${frame.height}`} preserveAspectRatio="xMidYMid meet" aria-hidden="true" data-testid="face-box" data-box={`${face.box.x},${face.box.y},${face.box.w},${face.box.h}`} data-score={face.box.score.toFixed(3)} data-frame={`${frame.width}x${frame.height}`}>
          <rect x={face.box.x} y={face.box.y} width={face.box.w} height={face.box.h} className={`face-overlay__box${hint.ok ? "" : " face-overlay__box--warn"}`} />
        </svg>
      )}
      <span className={`face-badge${hint.ok ? "" : " face-badge--warn"}`} aria-hidden="true">
        {hint.short}
      </span>
    </>
  );
}

/** The recorded clip, shown mirrored like the preview, with its own play and seek controls (native ones would flip). */
function Playback({ url, durationMs }: { url: string; durationMs: number }) {
  const video = useRef<HTMLVideoElement>(null);
  const [playing, setPlaying] = useState(false);
  const [at, setAt] = useState(0);
  const [duration, setDuration] = useState(durationMs / 1000);
  const toggle = () => {
    const v = video.current;
    if (!v) return;
    if (v.paused) void v.play?.()?.catch?.(() => undefined);
    else v.pause();
  };
  return (
    <>
      <div className="video-frame">
        <video
          ref={video}
          className="video-frame__video video-frame__video--mirror"
          src={url}
          playsInline
          preload="metadata"
          aria-label="Your recording (mirrored, like the preview)"
          data-testid="playback"
          onPlay={() => setPlaying(true)}
          onPause={() => setPlaying(false)}
          onEnded={() => setPlaying(false)}
          onTimeUpdate={(e) => setAt(e.currentTarget.currentTime)}
          onLoadedMetadata={(e) => Number.isFinite(e.currentTarget.duration) && setDuration(e.currentTarget.duration)}
          onClick={toggle}
        />
      </div>
      <div className="playback-bar">
        <button type="button" className="btn btn--ghost btn--small" onClick={toggle} data-testid="playback-toggle">
          {playing ? "Pause" : "Play"}
        </button>
        <input
          type="range"
          className="playback-bar__seek"
          aria-label="Position in the recording"
          min={0}
          max={Math.max(duration, 0.1)}
          step={0.1}
          value={Math.min(at, duration)}
          aria-valuetext={`${formatClock(at * 1000)} of ${formatClock(duration * 1000)}`}
          onChange={(e) => {
            const v = video.current;
            const t = Number(e.target.value);
            if (v) v.currentTime = t;
            setAt(t);
          }}
          data-testid="playback-seek"
        />
        <span className="playback-bar__time" aria-hidden="true">
          {formatClock(at * 1000)} / {formatClock(duration * 1000)}
        </span>
      </div>
    </>
  );
}

interface Props {
  minSeconds: number;
  maxSeconds: number;
  maxBytes: number;
  /** The worker's detector and quality thresholds (`GET /v1/config`); without them only the light is checked. */
  faceCheck?: FaceCheckConfig | null;
  busy?: boolean;
  onSubmit: (file: Blob, filename: string) => void;
}

export interface Recording {
  blob: Blob;
  url: string;
  durationMs: number;
  filename: string;
  /** Seconds in which the live face check found a readable face; null when it did not run. */
  readableS: number | null;
}

/**
 * Webcam recording with MediaRecorder: permission handling, live preview, a visible timer,
 * a minimum and maximum length, stop, retake and playback before anything is sent.
 */
export function Recorder({ minSeconds, maxSeconds, maxBytes, faceCheck, busy, onSubmit }: Props) {
  const [phase, setPhase] = useState<Phase>("idle");
  const [error, setError] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [recording, setRecording] = useState<Recording | null>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const recorderRef = useRef<MediaRecorder | null>(null);
  const chunksRef = useRef<Blob[]>([]);
  const startedRef = useRef(0);
  const tickRef = useRef<ReturnType<typeof setInterval> | null>(null);
  const previewRef = useRef<HTMLVideoElement>(null);
  const mountedRef = useRef(true);
  const [countdown, setCountdown] = useState(false);
  const [count, setCount] = useState(COUNTDOWN_FROM);
  const countRef = useRef<ReturnType<typeof setInterval> | null>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const actedRef = useRef(false);
  const [luma, setLuma] = useState<number | null>(null);
  const live = phase === "ready" || phase === "countdown" || phase === "recording";
  const check = useFaceCheck(previewRef, faceCheck, live);
  // the face check speaks when it runs; the light check is the fallback where it cannot
  const checking = !!faceCheck && check.state !== "unavailable";
  const recordStartRef = useRef(0);
  const checkingRef = useRef(false);
  useEffect(() => {
    checkingRef.current = checking;
  }, [checking]);

  // While the camera is on (and the face check is not running), check the light once a second (a small canvas sample).
  useEffect(() => {
    if (phase !== "ready" || checking) return;
    const canvas = document.createElement("canvas");
    const timer = setInterval(() => {
      const v = previewRef.current;
      if (v) setLuma(frameLuma(v, canvas));
    }, 1000);
    return () => clearInterval(timer);
  }, [phase, checking]);
  const hint = phase === "ready" && !checking ? lightHint(luma) : null;

  // After a click changed the phase (camera on, countdown, recording, stopped), focus lands on the new heading.
  useEffect(() => {
    if (!actedRef.current || phase === "requesting") return;
    focusElement(titleRef.current);
  }, [phase]);

  const supported =
    typeof navigator !== "undefined" && !!navigator.mediaDevices?.getUserMedia && typeof MediaRecorder !== "undefined";

  const stopCamera = useCallback(() => {
    streamRef.current?.getTracks().forEach((t) => t.stop());
    streamRef.current = null;
  }, []);

  const clearTick = () => {
    if (tickRef.current) clearInterval(tickRef.current);
    tickRef.current = null;
    if (countRef.current) clearInterval(countRef.current);
    countRef.current = null;
  };

  useEffect(() => {
    mountedRef.current = true;
    return () => {
      mountedRef.current = false;
      clearTick();
      if (recorderRef.current && recorderRef.current.state !== "inactive") {
        recorderRef.current.ondataavailable = null;
        recorderRef.current.onstop = null;
        recorderRef.current.stop();
      }
      stopCamera();
    };
  }, [stopCamera]);

  // Free the playback URL when it's replaced or the component goes away.
  useEffect(() => {
    const url = recording?.url;
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [recording]);

  // Attach the live stream to the preview element whenever it is (re)rendered.
  useEffect(() => {
    const v = previewRef.current;
    if (v && streamRef.current && (phase === "ready" || phase === "countdown" || phase === "recording")) {
      if (v.srcObject !== streamRef.current) v.srcObject = streamRef.current;
      void v.play?.()?.catch?.(() => undefined);
    }
  }, [phase]);

  const startCamera = async () => {
    actedRef.current = true;
    setError(null);
    setPhase("requesting");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
        audio: false,
      });
      if (!mountedRef.current) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      streamRef.current = stream;
      setPhase("ready");
    } catch (err) {
      const { denied, message } = cameraErrorMessage(err);
      setError(message);
      setPhase(denied ? "blocked" : "idle");
    }
  };

  const finish = useCallback(() => {
    const rec = recorderRef.current;
    if (rec && rec.state !== "inactive") rec.stop();
    clearTick();
  }, []);

  const startRecording = () => {
    actedRef.current = true;
    if (!countdown) {
      beginRecording();
      return;
    }
    setCount(COUNTDOWN_FROM);
    setPhase("countdown");
    let left = COUNTDOWN_FROM;
    countRef.current = setInterval(() => {
      left -= 1;
      if (left > 0) {
        setCount(left);
        return;
      }
      if (countRef.current) clearInterval(countRef.current);
      countRef.current = null;
      beginRecording();
    }, 1000);
  };

  const beginRecording = () => {
    const stream = streamRef.current;
    if (!stream) return;
    const mimeType = pickRecorderMimeType();
    let rec: MediaRecorder;
    try {
      rec = mimeType ? new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 2_500_000 }) : new MediaRecorder(stream);
    } catch {
      setError("Recording isn't supported in this browser. Please upload a video instead.");
      setPhase("ready");
      return;
    }
    chunksRef.current = [];
    rec.ondataavailable = (e) => {
      if (e.data && e.data.size > 0) chunksRef.current.push(e.data);
    };
    rec.onstop = async () => {
      if (!mountedRef.current) return;
      const durationMs = Date.now() - startedRef.current;
      const readableS = checkingRef.current ? readableSeconds(check.samples.current, recordStartRef.current, performance.now()) : null;
      const type = rec.mimeType || mimeType || "video/webm";
      const raw = new Blob(chunksRef.current, { type: type.split(";")[0] });
      stopCamera();
      if (raw.size === 0) {
        setError("The recording came out empty. Please try again.");
        setPhase("idle");
        return;
      }
      // MediaRecorder's WebM has no duration: players show 0:00 and cannot seek until it is written in.
      const blob = raw.type === "video/webm" ? await fixWebmDuration(raw, durationMs, { logger: false }) : raw;
      if (!mountedRef.current) return;
      const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
      setRecording({ blob, url: URL.createObjectURL(blob), durationMs, filename: `recording-${stamp}${extensionForMime(type)}`, readableS });
      setPhase("recorded");
    };
    rec.onerror = () => {
      setError("Recording stopped unexpectedly. Please try again.");
    };
    recorderRef.current = rec;
    startedRef.current = Date.now();
    recordStartRef.current = performance.now();
    setElapsed(0);
    rec.start(1000);
    setPhase("recording");
    tickRef.current = setInterval(() => {
      const ms = Date.now() - startedRef.current;
      setElapsed(ms);
      if (ms >= maxSeconds * 1000) finish();
    }, 200);
  };

  const retake = async () => {
    setRecording(null);
    setElapsed(0);
    await startCamera();
  };

  const canStop = elapsed >= minSeconds * 1000;
  const verdict = recording ? recordingVerdict(recording.readableS, recording.durationMs / 1000, minSeconds) : null;
  const secondsToMin = Math.max(0, Math.ceil(minSeconds - elapsed / 1000));

  if (!supported) {
    return (
      <Alert tone="warning" title="Recording isn't available in this browser">
        Your browser doesn't support webcam recording, or the page isn't served securely. Please upload a video instead.
      </Alert>
    );
  }

  return (
    <div className="recorder" data-phase={phase}>
      <h2 className="recorder__title" ref={titleRef} data-testid="recorder-title">
        {TITLES[phase]}
      </h2>
      {error && (
        <Alert tone={phase === "blocked" ? "warning" : "error"} testId="camera-error">
          {error}
        </Alert>
      )}

      {(phase === "idle" || phase === "requesting" || phase === "blocked") && (
        <div className="recorder__placeholder">
          <div className="recorder__icon" aria-hidden="true">
            <svg viewBox="0 0 24 24" width="40" height="40">
              <path fill="currentColor" d="M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z" />
            </svg>
          </div>
          <p>
            Record between {minSeconds} and {maxSeconds} seconds. Only video is recorded — no sound. Nothing is sent until
            you choose to.
          </p>
          <button type="button" className="btn btn--primary" onClick={startCamera} disabled={phase === "requesting"}>
            {phase === "requesting" ? "Waiting for camera permission…" : phase === "blocked" ? "Try the camera again" : "Turn on camera"}
          </button>
        </div>
      )}

      {(phase === "ready" || phase === "countdown" || phase === "recording") && (
        <div className="recorder__stage">
          <div className="video-frame">
            <video ref={previewRef} className="video-frame__video video-frame__video--mirror" autoPlay muted playsInline aria-label="Live camera preview" data-testid="live-preview" />
            {checking && <FaceOverlay check={check} />}
            {phase === "countdown" && (
              <div className="countdown" data-testid="countdown" aria-live="assertive">
                {count}
              </div>
            )}
            {phase === "recording" && (
              <div className="rec-badge" aria-hidden="true">
                <span className="rec-dot" /> REC
              </div>
            )}
          </div>
          <div className="recorder__controls">
            <div className="timer" data-testid="record-timer" aria-live="off">
              <span className="timer__value">{formatClock(elapsed)}</span>
              <span className="timer__max"> / {formatClock(maxSeconds * 1000)}</span>
            </div>
            <div className="timer-track" aria-hidden="true">
              <div className="timer-track__min" style={{ left: `${(minSeconds / maxSeconds) * 100}%` }} />
              <div className="timer-track__bar" style={{ width: `${Math.min(100, (elapsed / (maxSeconds * 1000)) * 100)}%` }} />
            </div>
            {phase === "ready" ? (
              <>
                {checking && <FaceHint check={check} />}
                <button type="button" className="btn btn--record" onClick={startRecording}>
                  <span className="rec-dot" aria-hidden="true" /> Start recording
                </button>
                {hint && (
                  <p className={`light-hint${hint.ok ? "" : " light-hint--warn"}`} data-testid="light-hint" role="status">
                    {hint.text}
                  </p>
                )}
                <label className="check">
                  <input type="checkbox" checked={countdown} onChange={(e) => setCountdown(e.target.checked)} data-testid="countdown-toggle" /> Count down 3, 2, 1 before
                  recording starts
                </label>
              </>
            ) : phase === "countdown" ? (
              <p className="muted small" role="status">
                Recording starts in {count}…
              </p>
            ) : (
              <>
                <button
                  type="button"
                  className="btn btn--primary"
                  onClick={() => {
                    actedRef.current = true;
                    finish();
                  }}
                  disabled={!canStop}
                >
                  {canStop ? "Stop recording" : `Keep going… ${secondsToMin} s`}
                </button>
                <p className="muted small" role="status">
                  {canStop
                    ? `Recording stops by itself at ${maxSeconds} seconds.`
                    : `Recording — at least ${minSeconds} seconds are needed.`}
                </p>
                {checking && <FaceHint check={check} />}
              </>
            )}
          </div>
        </div>
      )}

      {phase === "recorded" && recording && (
        <div className="recorder__stage">
          <div>
            <Playback url={recording.url} durationMs={recording.durationMs} />
          </div>
          <div className="recorder__controls">
            <p data-testid="recording-summary">
              <strong>Recording ready</strong> — {formatClock(recording.durationMs)} long. Watch it back, then send it for
              analysis or record again.
            </p>
            {verdict &&
              (verdict.retake ? (
                <Alert tone="warning" title="Your face was hard to read" testId="readable-summary">
                  {verdict.text}
                </Alert>
              ) : (
                <p className="light-hint" data-testid="readable-summary">
                  {verdict.text}
                </p>
              ))}
            {recording.blob.size > maxBytes && (
              <Alert tone="error">This recording is larger than the upload limit. Please record a shorter one.</Alert>
            )}
            <div className="btn-row">
              <button type="button" className={`btn ${verdict?.retake ? "btn--primary" : "btn--ghost"}`} onClick={retake} disabled={busy}>
                Retake
              </button>
              <button
                type="button"
                className={`btn ${verdict?.retake ? "btn--ghost" : "btn--primary"}`}
                onClick={() => onSubmit(recording.blob, recording.filename)}
                disabled={busy || recording.blob.size > maxBytes}
              >
                {verdict?.retake ? "Analyse it anyway" : "Analyse this recording"}
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
