import type { TokenPair } from "./types";

/**
 * Where the session lives.
 *
 * - The access token is kept only in memory (never written to storage).
 * - The refresh token is kept in sessionStorage, so a reload keeps you signed in while
 *   closing the tab signs you out. It is rotated on every refresh; the server revokes the
 *   whole family if a spent one is replayed, so we always store the newest one at once.
 */
const REFRESH_KEY = "bloomwell.refresh";

type Listener = (signedIn: boolean) => void;

let accessToken: string | null = null;
let accessExpiresAt = 0;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof window !== "undefined" ? window.sessionStorage : null;
  } catch {
    return null;
  }
}

export const tokens = {
  getAccess(): string | null {
    return accessToken;
  },
  /** True when the access token is missing or expires within `marginMs`. */
  accessExpiring(marginMs = 30_000): boolean {
    return !accessToken || Date.now() + marginMs >= accessExpiresAt;
  },
  getRefresh(): string | null {
    return storage()?.getItem(REFRESH_KEY) ?? null;
  },
  hasSession(): boolean {
    return !!accessToken || !!this.getRefresh();
  },
  set(pair: TokenPair): void {
    const had = this.hasSession();
    accessToken = pair.access_token;
    const ttl = Number.isFinite(pair.expires_in) && pair.expires_in > 0 ? pair.expires_in : 300;
    accessExpiresAt = Date.now() + ttl * 1000;
    storage()?.setItem(REFRESH_KEY, pair.refresh_token);
    if (!had) emit(true);
  },
  clear(): void {
    const had = this.hasSession();
    accessToken = null;
    accessExpiresAt = 0;
    storage()?.removeItem(REFRESH_KEY);
    if (had) emit(false);
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

function emit(signedIn: boolean) {
  for (const l of [...listeners]) l(signedIn);
}
