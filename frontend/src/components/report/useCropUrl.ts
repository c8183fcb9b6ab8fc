import { cropPath } from "../../api/analyses";
import { useBlobUrl } from "../../lib/useBlobUrl";

/** A blob: URL for one face crop, fetched with the Bearer token; undefined while loading, null if unavailable. */
export function useCropUrl(analysisId: string, name: string | null): string | null | undefined {
  return useBlobUrl(name ? cropPath(analysisId, name) : null);
}
