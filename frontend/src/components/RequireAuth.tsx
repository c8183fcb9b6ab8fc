import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { PageLoading } from "./Spinner";

/** The children once signed in; `fallback` (a spinner by default) while the session is being restored. */
export function RequireAuth({ children, fallback }: { children: ReactNode; fallback?: ReactNode }) {
  const { state } = useAuth();
  const location = useLocation();
  if (state === "checking") return <>{fallback ?? <PageLoading label="Restoring your session…" />}</>;
  if (state === "signed-out") {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}
