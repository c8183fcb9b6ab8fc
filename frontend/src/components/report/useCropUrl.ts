import { useEffect, useState } from "react";
import { fetchCrop } from "../../api/analyses";

/** A blob: URL for one face crop, fetched with the Bearer token; undefined while loading, null if unavailable. */
export function useCropUrl(analysisId: string, name: string | null): string | null | undefined {
  const [state, setState] = useState<{ name: string | null; url: string | null | undefined }>({ name, url: undefined });
  useEffect(() => {
    if (!name) return;
    const controller = new AbortController();
    let url: string | null = null;
    fetchCrop(analysisId, name, controller.signal)
      .then((blob) => {
        url = URL.createObjectURL(blob);
        setState({ name, url });
      })
      .catch(() => {
        if (!controller.signal.aborted) setState({ name, url: null });
      });
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [analysisId, name]);
  if (!name) return null;
  return state.name === name ? state.url : undefined;
}
