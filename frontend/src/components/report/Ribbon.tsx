import { useEffect, useRef, useState } from "react";
import type { ReadBand } from "../../domain/confidence";
import { EMOTION_LABELS, emotionColor, emotionWord, type Emotion } from "../../domain/emotions";
import { textColorOn } from "../../domain/contrast";
import type { GapPhrases } from "../../domain/summary";
import { moment, percent, seconds } from "../../domain/words";

const LABEL_PX_PER_CHAR = 7.5;

function bandText(b: ReadBand, phrases: GapPhrases): string {
  const span = `${moment(b.start)} to ${moment(b.end)}`;
  if (b.emotion && b.unclear) return `${span}: unclear (leaning ${emotionWord(b.emotion)}, ${percent(b.confidence ?? 0)})`;
  if (b.emotion) return `${span}: ${EMOTION_LABELS[b.emotion]}`;
  return `${span}: not read${phrases[b.gapReason ?? ""] ? ` (${phrases[b.gapReason ?? ""]})` : ""}`;
}

function ticks(duration: number): number[] {
  const step = [1, 2, 5, 10, 15, 30, 60, 120].find((s) => duration / s <= 6) ?? 300;
  const out: number[] = [];
  for (let t = 0; t <= duration + 1e-6; t += step) out.push(t);
  return out;
}

/** The smoothed dominant expression over time as one labelled band; gaps hatched, with their reason; stretches the
 *  model was unsure of keep their colour, faded and striped, and are labelled "unclear". */
export function Ribbon({ bands, duration, phrases }: { bands: ReadBand[]; duration: number; phrases: GapPhrases }) {
  const track = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const el = track.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver((entries) => setWidth(entries[0]?.contentRect.width || el.clientWidth || 640));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const present = [...new Set(bands.filter((b) => !b.unclear).map((b) => b.emotion).filter((e): e is Emotion => !!e))];
  const hasGaps = bands.some((b) => !b.emotion);
  const hasUnclear = bands.some((b) => b.unclear);
  const end = bands.length ? bands[bands.length - 1].end : duration;
  return (
    <figure className="ribbon" data-testid="ribbon">
      <div className="ribbon__track" ref={track} role="img" aria-label={`Most likely expression over time: ${bands.map((b) => bandText(b, phrases)).join("; ")}.`}>
        {bands.map((b) => {
          const px = b.fraction * width;
          const label = b.unclear ? "unclear" : b.emotion ? EMOTION_LABELS[b.emotion] : "not read";
          const show = px >= label.length * LABEL_PX_PER_CHAR + 10;
          const color = b.emotion && !b.unclear ? emotionColor(b.emotion) : undefined;
          return (
            <div
              key={`${b.start}-${b.end}`}
              className={`ribbon__band${b.emotion ? "" : " ribbon__band--gap"}${b.unclear ? " ribbon__band--unclear" : ""}`}
              style={{ flexGrow: b.fraction, background: color, color: color ? textColorOn(color) : undefined, ["--band-color" as string]: b.emotion ? emotionColor(b.emotion) : undefined }}
              title={bandText(b, phrases)}
              data-emotion={b.emotion ?? "gap"}
              data-unclear={b.unclear || undefined}
            >
              {show && <span className="ribbon__label">{label}</span>}
            </div>
          );
        })}
      </div>
      <div className="ribbon__axis" aria-hidden="true">
        {ticks(end).map((t) => (
          <span key={t} style={{ left: `${(t / (end || 1)) * 100}%` }}>
            {moment(t)}
          </span>
        ))}
      </div>
      <ul className="ribbon__legend" aria-label="Colours in the band">
        {present.map((e) => (
          <li key={e}>
            <span className="swatch" style={{ background: emotionColor(e) }} aria-hidden="true" />
            {EMOTION_LABELS[e]}
          </li>
        ))}
        {hasUnclear && (
          <li>
            <span className="swatch swatch--unclear" aria-hidden="true" />
            Unclear (the model was unsure; striped in the colour it leaned to)
          </li>
        )}
        {hasGaps && (
          <li>
            <span className="swatch swatch--gap" aria-hidden="true" />
            Not read (face missing or unreadable)
          </li>
        )}
      </ul>
      <details className="ribbon__words">
        <summary>The timeline in words</summary>
        <ol>
          {bands.map((b) => (
            <li key={`${b.start}-${b.end}`}>
              {bandText(b, phrases)} ({seconds(b.end - b.start)})
            </li>
          ))}
        </ol>
      </details>
      <figcaption className="chart__caption">
        The most likely expression at each moment, with brief flickers smoothed out. Hatched stretches could not be read.
      </figcaption>
    </figure>
  );
}
