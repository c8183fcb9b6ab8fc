import { useCallback, useEffect, useState } from "react";

/**
 * After a rejected submit, move focus to the first form field marked invalid (once it has rendered).
 * Returns the function to call on each rejected submit.
 */
export function useFocusFirstInvalid(): () => void {
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (attempt) document.querySelector<HTMLElement>("form [aria-invalid='true']")?.focus();
  }, [attempt]);
  return useCallback(() => setAttempt((n) => n + 1), []);
}
