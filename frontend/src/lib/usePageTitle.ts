import { useEffect } from "react";

export const APP_NAME = "Bloomwell";

/** "<title> — Bloomwell" as the document title while the calling page is shown. */
export function usePageTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} — ${APP_NAME}` : APP_NAME;
  }, [title]);
}
