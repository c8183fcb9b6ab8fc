import { useEffect, useState } from "react";
import { fetchBlob } from "../api/analyses";

/** A blob: URL for an API path fetched with the Bearer token; undefined while loading, null if unavailable. */
export function useBlobUrl(path: string | null | undefined): string | null | undefined {
  const [state, setState] = useState<{ path: string | null; url: string | null | undefined }>({ path: path ?? null, url: undefined });
  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    let url: string | null = null;
    fetchBlob(path, controller.signal)
      .then((blob) => {
        url = URL.createObjectURL(blob);
        setState({ path, url });
      })
      .catch(() => {
        if (!controller.signal.aborted) setState({ path, url: null });
      });
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [path]);
  if (!path) return null;
  return state.path === path ? state.url : undefined;
}
