import { useEffect } from "react";

/**
 * While the page is printed, every closed `<details>` is opened (and closed again afterwards), so folded sections such
 * as "The timeline in words" and "Details" print in full in browsers without CSS `::details-content`.
 */
export function usePrintOpensDetails(): void {
  useEffect(() => {
    let opened: HTMLDetailsElement[] = [];
    const before = () => {
      opened = [...document.querySelectorAll<HTMLDetailsElement>("main details:not([open])")];
      for (const d of opened) d.open = true;
    };
    const after = () => {
      for (const d of opened) d.open = false;
      opened = [];
    };
    window.addEventListener("beforeprint", before);
    window.addEventListener("afterprint", after);
    return () => {
      window.removeEventListener("beforeprint", before);
      window.removeEventListener("afterprint", after);
    };
  }, []);
}
