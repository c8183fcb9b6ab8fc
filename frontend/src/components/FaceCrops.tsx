import { useEffect, useMemo, useState } from "react";
import { fetchCrop } from "../api/analyses";
import type { FrameResult, Person } from "../api/types";
import { emotionLabel } from "../domain/emotions";
import { personThumbnail, readableFaces } from "../domain/frames";
import "./FaceCrops.css";

interface CropRef {
  name: string;
  /** When it was seen and the model's reading of that frame; null for the person's picture alone. */
  t: number | null;
  emotion: string | null;
}

/**
 * Up to `max` kept crops of one person's *readable* faces, spread over the video (an unread face is never shown with an
 * expression); when none was kept, the person's own picture without a reading; nothing when the person was never
 * readable.
 */
export function pickCrops(frames: readonly FrameResult[], person: Pick<Person, "track_id" | "crop" | "assessable_frames">, max = 8): CropRef[] {
  const all: CropRef[] = readableFaces(frames, person.track_id)
    .filter((f) => f.crop)
    .map((f) => ({ name: f.crop as string, t: f.t, emotion: f.emotion }));
  if (!all.length) {
    const own = personThumbnail(person, frames);
    return own ? [{ name: own, t: null, emotion: null }] : [];
  }
  if (all.length <= max) return all;
  const out: CropRef[] = [];
  for (let i = 0; i < max; i++) out.push(all[Math.round((i * (all.length - 1)) / (max - 1))]);
  return out;
}

/** Face thumbnails fetched with the Bearer token and shown from blob: URLs. */
export function FaceCrops({ analysisId, frames, person }: { analysisId: string; frames: FrameResult[]; person: Pick<Person, "track_id" | "crop" | "assessable_frames"> }) {
  const crops = useMemo(() => pickCrops(frames, person, 8), [frames, person]);
  const [urls, setUrls] = useState<Record<string, string | null>>({});

  useEffect(() => {
    const controller = new AbortController();
    const created: string[] = [];
    let cancelled = false;
    for (const c of crops) {
      fetchCrop(analysisId, c.name, controller.signal)
        .then((blob) => {
          if (cancelled) return;
          const url = URL.createObjectURL(blob);
          created.push(url);
          setUrls((u) => ({ ...u, [c.name]: url }));
        })
        .catch(() => {
          if (!cancelled) setUrls((u) => ({ ...u, [c.name]: null }));
        });
    }
    return () => {
      cancelled = true;
      controller.abort();
      created.forEach((u) => URL.revokeObjectURL(u));
    };
  }, [analysisId, crops]);

  if (!crops.length) {
    return <p className="muted">No picture of a readable face was kept for this person.</p>;
  }
  return (
    <ul className="crops" data-testid="face-crops">
      {crops.map((c) => {
        const url = urls[c.name];
        return (
          <li key={c.name} className="crop" data-crop={c.name}>
            {url ? (
              <img
                src={url}
                alt={c.t == null ? "This person's clearest face" : `Face at ${c.t.toFixed(1)} s, most likely ${emotionLabel(c.emotion).toLowerCase()} in that frame`}
                width={96}
                height={96}
                className="crop__img"
              />
            ) : (
              <div className="crop__img crop__img--placeholder" aria-label={url === null ? "Thumbnail unavailable" : "Loading thumbnail"} role="img" />
            )}
            {c.t != null && c.emotion != null ? (
              <span className="crop__meta">
                <span className={`chip chip--${c.emotion}`}>{emotionLabel(c.emotion)}</span>
                <span className="muted small">{c.t.toFixed(1)} s</span>
              </span>
            ) : (
              <span className="crop__meta muted small">clearest face</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
