import { apiUrl } from "../config";
import { tokens } from "./tokens";
import type { TokenPair } from "./types";

/** An API failure with a sentence for the person and, for 422s, per-field messages. */
export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: Record<string, string>;
  readonly detail: unknown;

  constructor(status: number, message: string, fieldErrors: Record<string, string> = {}, detail: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.detail = detail;
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
export function errorFromBody(status: number, body: unknown): ApiError {
  const fallback = FALLBACK_BY_STATUS[status] ?? `Request failed (${status}).`;
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string" && detail.trim()) {
      return new ApiError(status, detail, {}, detail);
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
      return new ApiError(status, messages.length ? messages.join(" ") : fallback, fields, detail);
    }
  }
  return new ApiError(status, fallback, {}, body);
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
  let res = await rawFetch(path, build(token));
  if (res.status === 401 && auth) {
    const ok = await refreshSession();
    if (!ok) throw new ApiError(401, SESSION_EXPIRED);
    res = await rawFetch(path, build(tokens.getAccess()));
    if (res.status === 401) {
      tokens.clear();
      throw new ApiError(401, SESSION_EXPIRED);
    }
  }
  if (!res.ok) throw errorFromBody(res.status, await readBody(res));
  return res;
}

export async function apiJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await apiFetch(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
