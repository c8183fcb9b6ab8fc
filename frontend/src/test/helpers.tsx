import type { PublicConfig } from "../api/types";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { vi } from "vitest";
import { AuthProvider } from "../auth/AuthContext";

export interface MockRoute {
  method?: string;
  /** Matched against the path + query (string prefix or RegExp). */
  path: string | RegExp;
  status?: number;
  body?: unknown;
  /** Response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  handler?: (req: { url: string; init: RequestInit }) => MockAnswer | Promise<MockAnswer>;
  once?: boolean;
}

export interface MockAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FetchCall {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

/** Replaces global fetch with a tiny router; returns the recorded calls. */
export function mockFetch(routes: MockRoute[]) {
  const calls: FetchCall[] = [];
  const remaining = [...routes];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const method = (init.method ?? "GET").toUpperCase();
    let body: unknown = init.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        /* keep text */
      }
    }
    calls.push({ method, url, headers: new Headers(init.headers), body });
    const idx = remaining.findIndex(
      (r) => (r.method ?? "GET").toUpperCase() === method && (typeof r.path === "string" ? url.startsWith(r.path) : r.path.test(url)),
    );
    if (idx < 0) return new Response(JSON.stringify({ detail: `no mock for ${method} ${url}` }), { status: 599 });
    const route = remaining[idx];
    if (route.once) remaining.splice(idx, 1);
    const out: MockAnswer = route.handler ? await route.handler({ url, init }) : { status: route.status, body: route.body, headers: route.headers };
    const status = out.status ?? 200;
    if (status === 204) return new Response(null, { status, headers: out.headers });
    if (out.body instanceof Blob) {
      // jsdom's Blob can't be streamed by Node's Response: pass its bytes instead.
      const bytes = await new Promise<ArrayBuffer>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result as ArrayBuffer);
        reader.readAsArrayBuffer(out.body as Blob);
      });
      return new Response(bytes, { status, headers: { "Content-Type": (out.body as Blob).type || "application/octet-stream" } });
    }
    return new Response(JSON.stringify(out.body ?? null), { status, headers: { "Content-Type": "application/json", ...out.headers } });
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}

export function renderWithRouter(ui: ReactElement, { path = "/", route = "/", extraRoutes = [] as { path: string; element: ReactElement }[] } = {}) {
  return render(
    <MemoryRouter initialEntries={[route]}>
      <AuthProvider>
        <Routes>
          <Route path={path} element={ui} />
          {extraRoutes.map((r) => (
            <Route key={r.path} path={r.path} element={r.element} />
          ))}
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

export const CONFIG: PublicConfig = {
  max_upload_bytes: 50 * 1024 * 1024,
  max_duration_s: 60,
  min_record_s: 5,
  max_record_s: 30,
  accepted_extensions: [".mp4", ".webm", ".mov", ".avi", ".mkv"],
  accepted_mime_types: ["video/mp4", "video/webm", "video/quicktime", "video/x-msvideo", "video/x-matroska"],
  default_sample_fps: 5,
  min_sample_fps: 0.5,
  max_sample_fps: 30,
  gap_phrases: { turned_away: "the face was turned away from the camera", too_dark: "the face was too dark", not_visible: "this person was not in the picture" },
  face_check: {
    quality: { min_face_px: 26, min_sharpness: 140, min_brightness: 28, max_brightness: 215, min_contrast: 10.5, max_yaw_deg: 40 },
    image_px: 48,
    nose_depth_ratio: 0.55,
    detector: { name: "yunet", model_sha256: "0".repeat(64), max_side: 320, score_threshold: 0.7, nms_threshold: 0.3, min_face_px: 12 },
  },
};

export function tokenPair(n: number, expiresIn = 900) {
  return { access_token: `access-${n}`, refresh_token: `refresh-${n}-xxxxxxxx`, token_type: "bearer", expires_in: expiresIn };
}
