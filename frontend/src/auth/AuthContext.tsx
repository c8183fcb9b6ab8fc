import { createContext, startTransition, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import * as authApi from "../api/auth";
import { ApiError } from "../api/client";
import { tokens } from "../api/tokens";
import type { User } from "../api/types";

export type AuthState = "checking" | "signed-in" | "signed-out";

interface AuthContextValue {
  state: AuthState;
  user: User | null;
  login: (email: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  /** Deletes the account on the server; `then` runs (e.g. to navigate away) before the local session is dropped. */
  deleteAccount: (then?: () => void) => Promise<void>;
  /** Set when the session ended on its own (expired or revoked), to explain the redirect. */
  endedReason: string | null;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>(() => (tokens.hasSession() ? "checking" : "signed-out"));
  const [user, setUser] = useState<User | null>(null);
  const [endedReason, setEndedReason] = useState<string | null>(null);
  // True while we sign out on purpose, so the listener below doesn't call it "session ended".
  const leaving = useRef(false);

  // Restore a session after a reload: the refresh token in sessionStorage buys a new access token.
  useEffect(() => {
    if (state !== "checking") return;
    let cancelled = false;
    authApi
      .fetchMe()
      .then((u) => {
        if (cancelled) return;
        setUser(u);
        setState("signed-in");
      })
      .catch((e) => {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 0 && tokens.hasSession()) {
          // Offline: keep the session; pages will show their own connection errors.
          setState("signed-in");
          return;
        }
        tokens.clear();
        setState("signed-out");
      });
    return () => {
      cancelled = true;
    };
  }, [state]);

  // Follow the token store: a failed refresh (expired or revoked family) signs us out everywhere.
  useEffect(
    () =>
      tokens.subscribe((signedIn) => {
        if (!signedIn) {
          const expired = !leaving.current;
          // A transition, like the router's navigations: an intentional sign-out and the
          // navigation away from a protected page render together, so the sign-in guard
          // never sees the old page with no session.
          startTransition(() => {
            if (expired) setEndedReason("Your session has ended. Please log in again.");
            setUser(null);
            setState("signed-out");
          });
        }
      }),
    [],
  );

  const login = useCallback(async (email: string, password: string) => {
    await authApi.login(email, password);
    setEndedReason(null);
    try {
      setUser(await authApi.fetchMe());
    } catch {
      setUser(null);
    }
    setState("signed-in");
  }, []);

  const logout = useCallback(async () => {
    leaving.current = true;
    try {
      startTransition(() => {
        setEndedReason(null);
        setUser(null);
        setState("signed-out");
      });
      await authApi.logout();
    } finally {
      leaving.current = false;
    }
  }, []);

  const deleteAccount = useCallback(async (then?: () => void) => {
    leaving.current = true;
    try {
      await authApi.deleteAccountOnServer();
      then?.();
      tokens.clear();
      startTransition(() => setEndedReason(null));
    } finally {
      leaving.current = false;
    }
  }, []);

  const value = useMemo(
    () => ({ state, user, login, logout, deleteAccount, endedReason }),
    [state, user, login, logout, deleteAccount, endedReason],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth must be used inside <AuthProvider>");
  return ctx;
}
