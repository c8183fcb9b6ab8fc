import { useBlobUrl } from "../lib/useBlobUrl";
import "./HistoryThumb.css";

/** The primary person's face for a history row, fetched with the Bearer token; a same-sized blank until then. */
export function HistoryThumb({ path }: { path: string | null | undefined }) {
  const url = useBlobUrl(path);
  if (!url) return <span className="history-thumb history-thumb--blank" aria-hidden="true" data-testid="history-thumb-blank" />;
  return <img className="history-thumb" src={url} alt="" width={44} height={44} data-testid="history-thumb" />;
}
