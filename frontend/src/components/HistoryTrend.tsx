import { useMemo } from "react";
import type { HistoryItem } from "../api/types";
import { EMOTION_LABELS, emotionColor, emotionLabel, isEmotion } from "../domain/emotions";
import { textColorOn } from "../domain/contrast";
import { trendPoints } from "../domain/trend";
import { percent } from "../domain/words";
import "./HistoryTrend.css";

const shortDate = (iso: string) => new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short" });

/**
 * Across the latest finished analyses: the most frequent expression (a labelled chip) and the negative share (a bar
 * with its value), oldest on the left. Both come with the history list itself: no request per analysis.
 */
export function HistoryTrend({ items }: { items: readonly HistoryItem[] }) {
  const points = useMemo(() => trendPoints(items), [items]);

  if (points.length < 2) return null;
  return (
    <section className="panel trend" aria-labelledby="trend-title" data-testid="history-trend">
      <h2 id="trend-title">Over time</h2>
      <p className="muted small">
        Your last {points.length} reports, oldest first: the most frequent expression, and how much of the readable time a
        negative expression (angry, disgusted, fearful or sad) was the most likely one.
      </p>
      <ol className="trend__list">
        {points.map((p) => {
          const color = emotionColor(p.dominant);
          return (
            <li key={p.id} className="trend__item" data-testid="trend-point">
              <span className="trend__bar" aria-hidden="true">
                <span className="trend__fill" style={{ height: `${Math.round((p.negativeShare ?? 0) * 100)}%` }} />
              </span>
              <span className="trend__value" aria-hidden="true">
                {p.negativeShare == null ? "…" : `${percent(p.negativeShare)} negative`}
              </span>
              <span className="trend__chip" style={{ background: color, color: textColorOn(color) }}>
                {isEmotion(p.dominant) ? EMOTION_LABELS[p.dominant] : emotionLabel(p.dominant)}
              </span>
              <span className="trend__date">{shortDate(p.date)}</span>
              <span className="sr-only">
                {`${shortDate(p.date)}: mostly ${emotionLabel(p.dominant).toLowerCase()}, negative ${p.negativeShare == null ? "not known yet" : percent(p.negativeShare)}`}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
