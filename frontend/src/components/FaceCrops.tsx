import { useEffect, useMemo, useState } from "react";
import { fetchCrop } from "../api/analyses";
import type { FrameResult } from "../api/types";
import { emotionLabel } from "../domain/emotions";
import "./FaceCrops.css";

interface CropRef {
  name: string;
  t: number;
  emotion: string;
}

/** Picks up to `max` kept crops of one person (or of everyone when `trackId` is undefined), spread over the video. */
export function pickCrops(frames: FrameResult[], max = 8, trackId?: number): CropRef[] {
  const all: CropRef[] = [];
  for (const f of frames) {
    for (const face of f.faces) {
      if (face.crop && (trackId === undefined || face.track_id === trackId)) all.push({ name: face.crop, t: f.t, emotion: face.emotion });
    }
  }
  if (all.length <= max) return all;
  const out: CropRef[] = [];
  for (let i = 0; i < max; i++) out.push(all[Math.round((i * (all.length - 1)) / (max - 1))]);
  return out;
}

/** Face thumbnails fetched with the Bearer token and shown from blob: URLs. */
export function FaceCrops({ analysisId, frames, trackId }: { analysisId: string; frames: FrameResult[]; trackId?: number }) {
  const crops = useMemo(() => pickCrops(frames, 8, trackId), [frames, trackId]);
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
    return <p className="muted">No face thumbnails were kept for this analysis.</p>;
  }
  return (
    <ul className="crops" data-testid="face-crops">
      {crops.map((c) => {
        const url = urls[c.name];
        return (
          <li key={c.name} className="crop">
            {url ? (
              <img src={url} alt={`Face at ${c.t.toFixed(1)} s, most likely ${emotionLabel(c.emotion).toLowerCase()} in that frame`} width={96} height={96} className="crop__img" />
            ) : (
              <div className="crop__img crop__img--placeholder" aria-label={url === null ? "Thumbnail unavailable" : "Loading thumbnail"} role="img" />
            )}
            <span className="crop__meta">
              <span className={`chip chip--${c.emotion}`}>{emotionLabel(c.emotion)}</span>
              <span className="muted small">{c.t.toFixed(1)} s</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}
