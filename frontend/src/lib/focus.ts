/** Moving focus after navigation and state changes, so keyboard and screen-reader users land on the new content. */

/** Focus `el` (made focusable with tabindex=-1 when it is not), without scrolling the page. */
export function focusElement(el: HTMLElement | null | undefined): boolean {
  if (!el) return false;
  if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: true });
  return document.activeElement === el;
}

/**
 * Focus the first element matching `selector` as soon as it exists (pages may render their heading only after
 * loading): checks on each animation frame for up to `timeoutMs`. Returns a function that cancels the wait.
 */
export function focusWhenReady(selector: string, timeoutMs = 3000): () => void {
  const start = Date.now();
  let handle = 0;
  const tick = () => {
    const el = document.querySelector<HTMLElement>(selector);
    if (el && focusElement(el)) return;
    if (Date.now() - start < timeoutMs) handle = requestAnimationFrame(tick);
  };
  tick();
  return () => cancelAnimationFrame(handle);
}
