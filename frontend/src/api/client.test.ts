import { afterEach, describe, expect, it, vi } from "vitest";
import { mockFetch, tokenPair } from "../test/helpers";
import { ApiError, BUSY_MAX_WAIT_MS, BUSY_RETRIES, apiJson, busyDelayMs, errorFromBody, parseRetryAfter, refreshSession } from "./client";
import { tokens } from "./tokens";

describe("errorFromBody", () => {
  it("uses a string detail as the message", () => {
    const e = errorFromBody(409, { detail: "An account with this e-mail already exists." });
    expect(e.status).toBe(409);
    expect(e.message).toBe("An account with this e-mail already exists.");
  });

  it("maps 422 validation details to fields", () => {
    const e = errorFromBody(422, {
      detail: [
        { loc: ["body", "password"], msg: "Password must be at least 8 characters long.", type: "password_too_short" },
        { loc: ["body", "email"], msg: "value is not a valid email address", type: "value_error" },
      ],
    });
    expect(e.fieldErrors.password).toBe("Password must be at least 8 characters long.");
    expect(e.fieldErrors.email).toBe("Value is not a valid email address");
    expect(e.message).toContain("Password:");
  });

  it("falls back to a plain sentence for unknown bodies", () => {
    expect(errorFromBody(503, "<html>").message).toMatch(/temporarily unavailable/);
    expect(errorFromBody(418, null).message).toMatch(/418/);
  });
});

describe("apiFetch and the session", () => {
  it("sends the Bearer token", async () => {
    tokens.set(tokenPair(1));
    const calls = mockFetch([{ path: "/v1/analyses", body: { items: [], next_cursor: null } }]);
    await apiJson("/v1/analyses");
    expect(calls[0].headers.get("Authorization")).toBe("Bearer access-1");
  });

  it("refreshes an expiring access token before the request and stores the rotated refresh token", async () => {
    tokens.set(tokenPair(1, 10)); // expires within the 30 s margin
    const calls = mockFetch([
      { method: "POST", path: "/auth/refresh", body: tokenPair(2) },
      { path: "/auth/me", body: { id: "u" } },
    ]);
    await apiJson("/auth/me");
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["POST /auth/refresh", "GET /auth/me"]);
    expect(calls[0].body).toEqual({ refresh_token: "refresh-1-xxxxxxxx" });
    expect(calls[1].headers.get("Authorization")).toBe("Bearer access-2");
    expect(tokens.getRefresh()).toBe("refresh-2-xxxxxxxx");
  });

  it("retries once after a 401 with a refreshed token", async () => {
    tokens.set(tokenPair(1));
    let n = 0;
    const calls = mockFetch([
      { path: "/auth/me", handler: () => (n++ === 0 ? { status: 401, body: { detail: "expired" } } : { body: { id: "u" } }) },
      { method: "POST", path: "/auth/refresh", body: tokenPair(2) },
    ]);
    await expect(apiJson("/auth/me")).resolves.toEqual({ id: "u" });
    expect(calls.map((c) => c.headers.get("Authorization"))).toEqual(["Bearer access-1", null, "Bearer access-2"]);
  });

  it("shares one refresh between concurrent callers so a spent token is never replayed", async () => {
    tokens.set(tokenPair(1, 1));
    const calls = mockFetch([
      { method: "POST", path: "/auth/refresh", body: tokenPair(2) },
      { path: "/v1/analyses/", body: { ok: true } },
    ]);
    await Promise.all([apiJson("/v1/analyses/a"), apiJson("/v1/analyses/b"), apiJson("/v1/analyses/c")]);
    expect(calls.filter((c) => c.url === "/auth/refresh")).toHaveLength(1);
  });

  it("ends the session when the refresh token is rejected (revoked family)", async () => {
    tokens.set(tokenPair(1, 1));
    let signedOut = false;
    const unsubscribe = tokens.subscribe((s) => {
      if (!s) signedOut = true;
    });
    mockFetch([{ method: "POST", path: "/auth/refresh", status: 401, body: { detail: "Refresh token reuse detected." } }]);
    await expect(apiJson("/auth/me")).rejects.toMatchObject({ status: 401 });
    expect(tokens.hasSession()).toBe(false);
    expect(signedOut).toBe(true);
    unsubscribe();
  });

  it("reports network failures in plain words without dropping the session", async () => {
    tokens.set(tokenPair(1, 1));
    const { vi } = await import("vitest");
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(refreshSession()).rejects.toBeInstanceOf(ApiError);
    expect(tokens.getRefresh()).toBe("refresh-1-xxxxxxxx");
  });
});

describe("a saturated gateway (503 + Retry-After)", () => {
  const BUSY = { status: 503, body: { detail: "Bloomwell is busy; try again in 1 s." }, headers: { "Retry-After": "1" } };

  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("2026-12-07T10:00:00Z");
    expect(parseRetryAfter("Mon, 07 Dec 2026 10:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Mon, 07 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it("waits the server's delay plus up to half of it again, bounded", () => {
    expect(busyDelayMs(1000, () => 0)).toBe(1000);
    expect(busyDelayMs(1000, () => 1)).toBe(1500);
    expect(busyDelayMs(0, () => 0)).toBe(100);
    expect(busyDelayMs(60_000, () => 1)).toBe(BUSY_MAX_WAIT_MS * 1.5);
  });

  it("sends a shed read again after Retry-After instead of failing", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    tokens.set(tokenPair(1));
    let n = 0;
    const calls = mockFetch([{ path: "/v1/analyses/a1", handler: () => (n++ === 0 ? BUSY : { body: { id: "a1" } }) }]);
    let result: unknown = null;
    const pending = apiJson("/v1/analyses/a1").then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(1); // 1 s + jitter (here 0.5 s) not yet over
    await vi.advanceTimersByTimeAsync(600);
    await pending;
    expect(calls).toHaveLength(2);
    expect(result).toEqual({ id: "a1" });
  });

  it("gives up after a bounded number of tries with the server's delay on the error", async () => {
    vi.useFakeTimers();
    tokens.set(tokenPair(1));
    const calls = mockFetch([{ path: "/v1/analyses", ...BUSY }]);
    const outcome = apiJson("/v1/analyses").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(BUSY_RETRIES * 1500 + 100);
    const error = await outcome;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, retryAfterMs: 1000 });
    expect(calls).toHaveLength(BUSY_RETRIES + 1);
  });

  it("never repeats a write, nor waits for a Retry-After beyond its bound", async () => {
    tokens.set(tokenPair(1));
    const calls = mockFetch([
      { method: "POST", path: "/v1/analyses/a1/events/ticket", ...BUSY },
      { path: "/v1/analyses/a1", status: 503, body: { detail: "down" }, headers: { "Retry-After": "3600" } },
    ]);
    await expect(apiJson("/v1/analyses/a1/events/ticket", { method: "POST" })).rejects.toMatchObject({ status: 503 });
    await expect(apiJson("/v1/analyses/a1")).rejects.toMatchObject({ status: 503, retryAfterMs: 3_600_000 });
    expect(calls).toHaveLength(2);
  });
});
