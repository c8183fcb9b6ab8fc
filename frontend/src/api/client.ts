import { apiUrl } from "../config";
import { tokens } from "./tokens";
import type { TokenPair } from "./types";

/** An API failure with a sentence for the person and, for 422s, per-field messages. */
export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: Record<string, string>;
  readonly detail: unknown;
  /** The server's `Retry-After` in milliseconds (a saturated gateway's 503), or null. */
  readonly retryAfterMs: number | null;

  constructor(status: number, message: string, fieldErrors: Record<string, string> = {}, detail: unknown = null, retryAfterMs: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
  }
}

export const NETWORK_ERROR = "We couldn't reach Bloomwell. Check your connection and try again.";
export const SESSION_EXPIRED = "Your session has ended. Please log in again.";

const FALLBACK_BY_STATUS: Record<number, string> = {
  400: "The request was not accepted.",
  401: SESSION_EXPIRED,
  403: "You don't have access to this.",
  404: "We couldn't find that. It may have been deleted.",
  409: "That conflicts with something that already exists.",
  413: "The file is too large.",
  415: "This file type isn't supported.",
  422: "Some of the information isn't valid.",
  429: "Too many requests. Please wait a moment and try again.",
  500: "Something went wrong on our side. Please try again.",
  502: "Bloomwell is temporarily unavailable. Please try again shortly.",
  503: "Bloomwell is temporarily unavailable. Please try again shortly.",
};

function fieldName(loc: unknown): string | null {
  if (!Array.isArray(loc) || loc.length === 0) return null;
  const last = loc[loc.length - 1];
  return typeof last === "string" ? last : null;
}

function cleanMsg(msg: string): string {
  // Pydantic prefixes custom validator messages with "Value error, ".
  const m = msg.replace(/^Value error,\s*/i, "").trim();
  return m ? m.charAt(0).toUpperCase() + m.slice(1) : m;
}

/** Builds an ApiError from a FastAPI-shaped error body (or anything else). */
export function errorFromBody(status: number, body: unknown, retryAfterMs: number | null = null): ApiError {
  const fallback = FALLBACK_BY_STATUS[status] ?? `Request failed (${status}).`;
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string" && detail.trim()) {
      return new ApiError(status, detail, {}, detail, retryAfterMs);
    }
    if (Array.isArray(detail)) {
      const fields: Record<string, string> = {};
      const messages: string[] = [];
      for (const item of detail) {
        if (!item || typeof item !== "object") continue;
        const msg = typeof (item as { msg?: unknown }).msg === "string" ? cleanMsg((item as { msg: string }).msg) : "";
        if (!msg) continue;
        const name = fieldName((item as { loc?: unknown }).loc);
        if (name && !(name in fields)) fields[name] = msg;
        messages.push(name && name !== "body" ? `${humanField(name)}: ${msg}` : msg);
      }
      return new ApiError(status, messages.length ? messages.join(" ") : fallback, fields, detail, retryAfterMs);
    }
  }
  return new ApiError(status, fallback, {}, body, retryAfterMs);
}

function humanField(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function rawFetch(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(apiUrl(path), init);
  } catch {
    throw new ApiError(0, NETWORK_ERROR);
  }
}

/** Sends of one read (GET/HEAD) that a saturated gateway shed with 503 + Retry-After, after the first. */
export const BUSY_RETRIES = 3;
/** A `Retry-After` longer than this is not waited for: the 503 is reported. */
export const BUSY_MAX_WAIT_MS = 10_000;

/** The `Retry-After` header in milliseconds (delay-seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value == null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * How long to wait before sending a shed request again: the server's Retry-After (at least 100 ms) plus up to half
 * of it again at random, so the clients a gateway turned away together do not all come back at the same moment.
 */
export function busyDelayMs(retryAfterMs: number, random: () => number = Math.random): number {
  const base = Math.min(Math.max(retryAfterMs, 100), BUSY_MAX_WAIT_MS);
  return Math.round(base * (1 + 0.5 * random()));
}

/** The Retry-After of a 503 that may be waited for (at most BUSY_MAX_WAIT_MS), or null. */
function busyRetryAfter(res: Response): number | null {
  if (res.status !== 503) return null;
  const ms = parseRetryAfter(res.headers.get("Retry-After"));
  return ms != null && ms <= BUSY_MAX_WAIT_MS ? ms : null;
}

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new DOMException("Aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * fetch() for one request; a read (GET/HEAD) that a saturated gateway shed (503 + Retry-After) is sent again after
 * that wait with jitter, BUSY_RETRIES times at most, so a busy moment never shows as an error. Writes are never
 * repeated here (a shed write did nothing, but its caller decides).
 */
async function fetchReadingThroughBusy(path: string, init: RequestInit): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const read = method === "GET" || method === "HEAD";
  for (let attempt = 0; ; attempt++) {
    const res = await rawFetch(path, init);
    const wait = read && attempt < BUSY_RETRIES ? busyRetryAfter(res) : null;
    if (wait == null) return res;
    await res.body?.cancel().catch(() => undefined);
    await sleep(busyDelayMs(wait), init.signal);
  }
}

let refreshing: Promise<boolean> | null = null;

/**
 * Exchanges the refresh token for a new pair. Only one refresh runs at a time: concurrent
 * callers share it, so a rotated (spent) refresh token is never sent twice.
 */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = tokens.getRefresh();
      if (!refresh) {
        tokens.clear();
        return false;
      }
      // Network trouble rejects here: the session is kept and the caller reports the error.
      const res = await rawFetch("/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refresh }),
      });
      if (!res.ok) {
        tokens.clear();
        return false;
      }
      tokens.set((await res.json()) as TokenPair);
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** A usable access token, refreshed first when it is about to expire; null when signed out. */
export async function getAccessToken(): Promise<string | null> {
  if (!tokens.accessExpiring()) return tokens.getAccess();
  if (!tokens.getRefresh()) return tokens.getAccess();
  const ok = await refreshSession();
  return ok ? tokens.getAccess() : null;
}

export interface RequestOptions extends Omit<RequestInit, "body"> {
  /** Send the Bearer token (default true). */
  auth?: boolean;
  /** JSON body, serialised for you. */
  json?: unknown;
  body?: BodyInit | null;
}

/**
 * fetch() against the API with the Bearer token. On a 401 it refreshes the session once
 * and retries; if that fails the session is cleared and an ApiError(401) is thrown.
 * Non-2xx answers become ApiError.
 */
export async function apiFetch(path: string, options: RequestOptions = {}): Promise<Response> {
  const { auth = true, json, headers, ...rest } = options;
  const build = (token: string | null): RequestInit => {
    const h = new Headers(headers);
    if (json !== undefined) h.set("Content-Type", "application/json");
    if (token) h.set("Authorization", `Bearer ${token}`);
    return { ...rest, headers: h, body: json !== undefined ? JSON.stringify(json) : rest.body };
  };

  let token: string | null = null;
  if (auth) {
    token = await getAccessToken();
    if (!token) throw new ApiError(401, SESSION_EXPIRED);
  }
  let res = await fetchReadingThroughBusy(path, build(token));
  if (res.status === 401 && auth) {
    const ok = await refreshSession();
    if (!ok) throw new ApiError(401, SESSION_EXPIRED);
    res = await fetchReadingThroughBusy(path, build(tokens.getAccess()));
    if (res.status === 401) {
      tokens.clear();
      throw new ApiError(401, SESSION_EXPIRED);
    }
  }
  if (!res.ok) throw errorFromBody(res.status, await readBody(res), parseRetryAfter(res.headers.get("Retry-After")));
  return res;
}

export async function apiJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await apiFetch(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
