import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mockFetch, tokenPair } from "../test/helpers";
import { tokens } from "./tokens";
import { uploadVideo, watchAnalysis } from "./analyses";
import { BUSY_RETRIES } from "./client";
import type { ProgressEvent } from "./types";

class FakeEventSource {
  static instances: FakeEventSource[] = [];
  url: string;
  closed = false;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {};
  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    (this.listeners[type] ??= []).push(fn);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown) {
    const ev = new MessageEvent(type, { data: JSON.stringify(data) });
    for (const fn of this.listeners[type] ?? []) fn(ev);
  }
}

const ev = (status: ProgressEvent["status"], progress: number, extra: Partial<ProgressEvent> = {}): ProgressEvent => ({
  analysis_id: "a1",
  status,
  progress,
  stage: null,
  error: null,
  error_code: null,
  ...extra,
});

describe("watchAnalysis", () => {
  beforeEach(() => {
    FakeEventSource.instances = [];
    tokens.set(tokenPair(1));
  });

  it("follows server-sent events with a stream ticket (never the token) and stops at a terminal status", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    const calls = mockFetch([{ method: "POST", path: "/v1/analyses/a1/events/ticket", body: { ticket: "t-1", expires_in: 30 } }]);
    const seen: ProgressEvent[] = [];
    const transports: string[] = [];
    const stop = watchAnalysis("a1", { onEvent: (e) => seen.push(e), onTransport: (t) => transports.push(t) });
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const es = FakeEventSource.instances[0];
    expect(es.url).toBe("/v1/analyses/a1/events?ticket=t-1");
    expect(calls[0].headers.get("Authorization")).toBe("Bearer access-1");
    es.emit("progress", ev("processing", 0.4, { stage: "analyzing" }));
    es.emit("progress", ev("succeeded", 1));
    es.emit("progress", ev("processing", 0.9)); // ignored after the terminal event
    expect(seen.map((e) => e.status)).toEqual(["processing", "succeeded"]);
    expect(es.closed).toBe(true);
    expect(transports).toEqual(["push"]);
    stop();
  });

  it("falls back to polling when the stream fails, and reports failure details", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    let n = 0;
    mockFetch([
      { method: "POST", path: "/v1/analyses/a1/events/ticket", body: { ticket: "t-1", expires_in: 30 } },
      {
        path: "/v1/analyses/a1",
        handler: () => {
          n += 1;
          return n < 2
            ? { body: { id: "a1", status: "processing", progress: 0.5, stage: "analyzing", error: null, error_code: null } }
            : { body: { id: "a1", status: "failed", progress: 1, stage: null, error: "No face was found in the video.", error_code: "no_face" } };
        },
      },
    ]);
    const seen: ProgressEvent[] = [];
    const transports: string[] = [];
    watchAnalysis("a1", { onEvent: (e) => seen.push(e), onTransport: (t) => transports.push(t) }, { pollIntervalMs: 5 });
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    FakeEventSource.instances[0].onerror?.();
    await vi.waitFor(() => expect(seen.at(-1)?.status).toBe("failed"));
    expect(FakeEventSource.instances[0].closed).toBe(true);
    expect(transports).toEqual(["push", "polling"]);
    expect(seen.at(-1)).toMatchObject({ error_code: "no_face", error: "No face was found in the video." });
  });

  it("polls when EventSource is unavailable and stops on 404", async () => {
    vi.stubGlobal("EventSource", undefined);
    mockFetch([{ path: "/v1/analyses/a1", status: 404, body: { detail: "Analysis not found." } }]);
    const onError = vi.fn();
    watchAnalysis("a1", { onEvent: () => undefined, onError }, { pollIntervalMs: 5 });
    await vi.waitFor(() => expect(onError).toHaveBeenCalled());
    expect(onError.mock.calls[0][0]).toMatchObject({ status: 404 });
  });

  it("keeps polling through a saturated gateway's 503s, after their Retry-After, without an error", async () => {
    vi.useFakeTimers();
    try {
      vi.stubGlobal("EventSource", undefined);
      vi.spyOn(Math, "random").mockReturnValue(0);
      const busyFor = (BUSY_RETRIES + 1) * 2; // two polls' worth of sends, each retried to its bound
      const sent: number[] = [];
      mockFetch([
        {
          path: "/v1/analyses/a1",
          handler: () => {
            sent.push(Date.now());
            if (sent.length <= busyFor) return { status: 503, body: { detail: "busy" }, headers: { "Retry-After": "2" } };
            return { body: { id: "a1", status: "succeeded", progress: 1, stage: "done", error: null, error_code: null } };
          },
        },
      ]);
      const seen: ProgressEvent[] = [];
      const onError = vi.fn();
      watchAnalysis("a1", { onEvent: (e) => seen.push(e), onError }, { pollIntervalMs: 500 });
      await vi.advanceTimersByTimeAsync(busyFor * 2000 + 1000);
      expect(seen.map((e) => e.status)).toEqual(["succeeded"]);
      expect(onError).not.toHaveBeenCalled();
      expect(sent).toHaveLength(busyFor + 1);
      const gaps = sent.slice(1).map((t, i) => t - sent[i]);
      expect(gaps.every((gap) => gap >= 2000)).toBe(true); // never sooner than the server asked
    } finally {
      vi.useRealTimers();
    }
  });
});

class FakeXhr {
  static instances: FakeXhr[] = [];
  static respond: (x: FakeXhr) => { status: number; body: unknown };
  method = "";
  url = "";
  headers: Record<string, string> = {};
  status = 0;
  responseText = "";
  responseType = "";
  body: FormData | null = null;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.instances.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    this.body = body;
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 });
      const r = FakeXhr.respond(this);
      this.status = r.status;
      this.responseText = JSON.stringify(r.body);
      this.onload?.();
    }, 0);
  }
  abort() {
    this.onabort?.();
  }
}

describe("uploadVideo", () => {
  beforeEach(() => {
    FakeXhr.instances = [];
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    tokens.set(tokenPair(1));
  });
  afterEach(() => vi.unstubAllGlobals());

  it("posts multipart with auth, an idempotency key and reports progress", async () => {
    FakeXhr.respond = () => ({ status: 202, body: { id: "new-id", status: "queued", created_at: "2026-01-01T00:00:00Z" } });
    const progress: number[] = [];
    const h = uploadVideo(new Blob(["x"], { type: "video/mp4" }), "clip.mp4", { sampleFps: 5, onProgress: (p) => progress.push(p) });
    await expect(h.promise).resolves.toMatchObject({ id: "new-id" });
    const x = FakeXhr.instances[0];
    expect(x.method).toBe("POST");
    expect(x.url).toBe("/v1/analyses");
    expect(x.headers.Authorization).toBe("Bearer access-1");
    expect(x.headers["Idempotency-Key"]).toMatch(/.{8,}/);
    expect((x.body?.get("video") as File).name).toBe("clip.mp4");
    expect(x.body?.get("sample_fps")).toBe("5");
    expect(progress).toEqual([0.5, 1]);
  });

  it("refreshes and retries with the same idempotency key after a 401", async () => {
    mockFetch([{ method: "POST", path: "/auth/refresh", body: tokenPair(2) }]);
    FakeXhr.respond = (x) => (x.headers.Authorization === "Bearer access-1" ? { status: 401, body: { detail: "expired" } } : { status: 202, body: { id: "n2" } });
    await expect(uploadVideo(new Blob(["x"]), "a.webm").promise).resolves.toMatchObject({ id: "n2" });
    expect(FakeXhr.instances).toHaveLength(2);
    expect(FakeXhr.instances[1].headers.Authorization).toBe("Bearer access-2");
    expect(FakeXhr.instances[1].headers["Idempotency-Key"]).toBe(FakeXhr.instances[0].headers["Idempotency-Key"]);
  });

  it("turns server rejections into readable errors", async () => {
    FakeXhr.respond = () => ({ status: 422, body: { detail: "The video is 95 s long; the limit is 60 s." } });
    await expect(uploadVideo(new Blob(["x"]), "a.mp4").promise).rejects.toMatchObject({ status: 422, message: "The video is 95 s long; the limit is 60 s." });
    FakeXhr.respond = () => ({ status: 413, body: null });
    await expect(uploadVideo(new Blob(["x"]), "a.mp4").promise).rejects.toMatchObject({ message: "This video is larger than the upload limit." });
  });
});
