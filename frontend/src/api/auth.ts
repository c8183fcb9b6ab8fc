import { apiFetch, apiJson } from "./client";
import { tokens } from "./tokens";
import type { TokenPair, User } from "./types";

export interface SignupInput {
  email: string;
  password: string;
  first_name: string;
  last_name: string;
}

export function signup(input: SignupInput): Promise<User> {
  return apiJson<User>("/auth/signup", { method: "POST", json: input, auth: false });
}

export async function login(email: string, password: string): Promise<void> {
  const pair = await apiJson<TokenPair>("/auth/login", { method: "POST", json: { email, password }, auth: false });
  tokens.set(pair);
}

export function fetchMe(): Promise<User> {
  return apiJson<User>("/auth/me");
}

/** Forgets the session locally at once, then revokes the refresh token on the server (best effort). */
export async function logout(): Promise<void> {
  const refresh = tokens.getRefresh();
  tokens.clear();
  if (!refresh) return;
  try {
    await apiFetch("/auth/logout", { method: "POST", json: { refresh_token: refresh }, auth: false });
  } catch {
    // Signing out locally must work even when the server is unreachable.
  }
}

/** DELETE /auth/me. The caller forgets the session afterwards (see AuthContext.deleteAccount). */
export async function deleteAccountOnServer(): Promise<void> {
  await apiFetch("/auth/me", { method: "DELETE" });
}
