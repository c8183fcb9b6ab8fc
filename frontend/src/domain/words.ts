/** Small formatting helpers for the report's sentences. */

/** "4 s", "0.8 s", "1 min 5 s": a duration in words. */
export function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "—";
  if (s < 10) return `${(Math.round(s * 10) / 10).toString()} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  const r = total % 60;
  return r ? `${m} min ${r} s` : `${m} min`;
}

/** A point in the video for "around …": whole seconds, tenths in the first 3 s. */
export function moment(t: number): string {
  if (t < 3) return `${(Math.round(t * 10) / 10).toString()} s`;
  if (t < 60) return `${Math.round(t)} s`;
  const total = Math.round(t);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

export function percent(v: number): string {
  return `${Math.round(v * 100)}%`;
}

/** "a", "a and b", "a, b and c". */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "a sad", "an angry": the indefinite article for a word. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? "an" : "a"} ${word}`;
}
