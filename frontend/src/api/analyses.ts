import { apiUrl } from "../config";
import { ApiError, NETWORK_ERROR, SESSION_EXPIRED, apiFetch, apiJson, busyDelayMs, errorFromBody, getAccessToken, refreshSession } from "./client";
import { tokens } from "./tokens";
import type { Analysis, AnalysisPage, AnalysisResult, ProgressEvent, PublicConfig } from "./types";
import { isTerminal } from "./types";

let configPromise: Promise<PublicConfig> | null = null;

/** The server's published limits (cached for the page's lifetime). */
export function getConfig(): Promise<PublicConfig> {
  if (!configPromise) {
    configPromise = apiJson<PublicConfig>("/v1/config", { auth: false }).catch((e) => {
      configPromise = null;
      throw e;
    });
  }
  return configPromise;
}

export function resetConfigCache() {
  configPromise = null;
}

export function listAnalyses(cursor?: string | null, limit = 20): Promise<AnalysisPage> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set("cursor", cursor);
  return apiJson<AnalysisPage>(`/v1/analyses?${q.toString()}`);
}

export function getAnalysis(id: string): Promise<Analysis> {
  return apiJson<Analysis>(`/v1/analyses/${encodeURIComponent(id)}`);
}

export function getResult(id: string): Promise<AnalysisResult> {
  return apiJson<AnalysisResult>(`/v1/analyses/${encodeURIComponent(id)}/result`);
}

export async function getResultCsv(id: string): Promise<Blob> {
  const res = await apiFetch(`/v1/analyses/${encodeURIComponent(id)}/result.csv`);
  return res.blob();
}

export async function deleteAnalysis(id: string): Promise<void> {
  await apiFetch(`/v1/analyses/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** The path of one face crop of an analysis (fetched with the Bearer header: `fetchBlob`). */
export function cropPath(id: string, name: string): string {
  return `/v1/analyses/${encodeURIComponent(id)}/crops/${encodeURIComponent(name)}`;
}

/** An authenticated GET of a binary resource (a face crop, a history thumbnail). */
export async function fetchBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  const res = await apiFetch(path, { signal });
  return res.blob();
}

export function fetchCrop(id: string, name: string, signal?: AbortSignal): Promise<Blob> {
  return fetchBlob(cropPath(id, name), signal);
}

export interface UploadOptions {
  sampleFps?: number;
  keepVideo?: boolean;
  onProgress?: (fraction: number) => void;
}

export interface UploadHandle {
  promise: Promise<{ id: string; status: string; created_at: string }>;
  abort: () => void;
}

function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Uploads a video with XMLHttpRequest so we can show upload progress.
 * The same Idempotency-Key is reused if the request has to be retried after a token refresh,
 * so a retry can never create two analyses.
 */
export function uploadVideo(file: Blob, filename: string, opts: UploadOptions = {}): UploadHandle {
  let xhr: XMLHttpRequest | null = null;
  let aborted = false;
  const key = newIdempotencyKey();

  const send = (token: string): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const form = new FormData();
      form.append("video", file, filename);
      if (opts.sampleFps != null) form.append("sample_fps", String(opts.sampleFps));
      if (opts.keepVideo) form.append("keep_video", "true");
      const req = new XMLHttpRequest();
      xhr = req;
      req.open("POST", apiUrl("/v1/analyses"));
      req.setRequestHeader("Authorization", `Bearer ${token}`);
      req.setRequestHeader("Idempotency-Key", key);
      req.responseType = "text";
      req.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
      };
      req.onload = () => {
        let body: unknown;
        try {
          body = req.responseText ? JSON.parse(req.responseText) : null;
        } catch {
          body = req.responseText;
        }
        resolve({ status: req.status, body });
      };
      req.onerror = () => reject(new ApiError(0, NETWORK_ERROR));
      req.onabort = () => reject(new ApiError(0, "Upload cancelled."));
      req.send(form);
    });

  const promise = (async () => {
    let token = await getAccessToken();
    if (!token) throw new ApiError(401, SESSION_EXPIRED);
    let res = await send(token);
    if (res.status === 401 && !aborted) {
      if (!(await refreshSession())) throw new ApiError(401, SESSION_EXPIRED);
      token = tokens.getAccess();
      if (!token) throw new ApiError(401, SESSION_EXPIRED);
      opts.onProgress?.(0);
      res = await send(token);
    }
    if (res.status < 200 || res.status >= 300) {
      throw uploadError(res.status, res.body);
    }
    opts.onProgress?.(1);
    return res.body as { id: string; status: string; created_at: string };
  })();

  return {
    promise,
    abort: () => {
      aborted = true;
      xhr?.abort();
    },
  };
}

function uploadError(status: number, body: unknown): ApiError {
  const err = errorFromBody(status, body);
  if (status === 413 && !hasDetail(body)) return new ApiError(413, "This video is larger than the upload limit.");
  if (status === 415 && !hasDetail(body)) return new ApiError(415, "This file isn't a video format we can read.");
  return err;
}

function hasDetail(body: unknown): boolean {
  return !!body && typeof body === "object" && "detail" in body;
}

export interface WatchHandlers {
  onEvent: (event: ProgressEvent) => void;
  /** Called with the transport in use: "push" (server-sent events) or "polling". */
  onTransport?: (transport: "push" | "polling") => void;
  /** A problem that stops the watch (e.g. the analysis was deleted or the session ended). */
  onError?: (error: ApiError) => void;
}

export interface WatchOptions {
  pollIntervalMs?: number;
  /** Force polling (used when EventSource is unavailable). */
  noPush?: boolean;
}

export function analysisToEvent(a: Analysis): ProgressEvent {
  return {
    analysis_id: a.id,
    status: a.status,
    progress: a.progress,
    stage: a.stage,
    error: a.error,
    error_code: a.error_code,
    expected_s: a.expected_s ?? null,
  };
}

/**
 * Follows an analysis until it reaches a terminal state: server-sent events first,
 * falling back to polling GET /v1/analyses/{id} if the stream cannot be used.
 * Returns a function that stops watching.
 */
export function watchAnalysis(id: string, handlers: WatchHandlers, options: WatchOptions = {}): () => void {
  const pollMs = options.pollIntervalMs ?? 2000;
  let stopped = false;
  let finished = false;
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let polling = false;

  const deliver = (ev: ProgressEvent) => {
    if (stopped || finished) return;
    handlers.onEvent(ev);
    if (isTerminal(ev.status)) {
      finished = true;
      es?.close();
      es = null;
      if (timer) clearTimeout(timer);
    }
  };

  const fail = (err: ApiError) => {
    if (stopped || finished) return;
    finished = true;
    es?.close();
    handlers.onError?.(err);
  };

  const startPolling = () => {
    if (polling || stopped || finished) return;
    polling = true;
    handlers.onTransport?.("polling");
    let failures = 0;
    const tick = async () => {
      if (stopped || finished) return;
      let busyMs: number | null = null;
      try {
        const a = await getAnalysis(id);
        failures = 0;
        deliver(analysisToEvent(a));
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, NETWORK_ERROR);
        if (err.status === 401 || err.status === 403 || err.status === 404) {
          fail(err);
          return;
        }
        // A saturated gateway says when to come back (503 + Retry-After): not a failure, no back-off.
        if (err.status === 503 && err.retryAfterMs != null) busyMs = busyDelayMs(err.retryAfterMs);
        else failures += 1;
      }
      if (!stopped && !finished) {
        const delay = Math.max(busyMs ?? 0, Math.min(pollMs * 2 ** Math.min(failures, 3), 15_000));
        timer = setTimeout(tick, delay);
      }
    };
    void tick();
  };

  const startPush = async () => {
    if (options.noPush || typeof EventSource === "undefined") {
      startPolling();
      return;
    }
    // A single-use, short-lived stream ticket: the access token never goes into a URL.
    let ticket: string;
    try {
      const issued = await apiJson<{ ticket: string; expires_in: number }>(
        `/v1/analyses/${encodeURIComponent(id)}/events/ticket`,
        { method: "POST" },
      );
      ticket = issued.ticket;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
        fail(e);
      } else if (!stopped) {
        startPolling();
      }
      return;
    }
    if (stopped) return;
    const url = apiUrl(`/v1/analyses/${encodeURIComponent(id)}/events?ticket=${encodeURIComponent(ticket)}`);
    const source = new EventSource(url);
    es = source;
    handlers.onTransport?.("push");
    const onData = (e: MessageEvent) => {
      try {
        deliver(JSON.parse(e.data) as ProgressEvent);
      } catch {
        // Ignore malformed keep-alive lines.
      }
    };
    source.addEventListener("progress", onData as EventListener);
    source.onmessage = onData;
    source.onerror = () => {
      // The stream broke (or never opened, e.g. an expired token or a proxy that buffers):
      // stop it and poll instead. Polling also refreshes the session when needed.
      source.close();
      if (es === source) es = null;
      if (!stopped && !finished) startPolling();
    };
  };

  void startPush();

  return () => {
    stopped = true;
    es?.close();
    es = null;
    if (timer) clearTimeout(timer);
  };
}
