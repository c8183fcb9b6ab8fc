import type { HistoryItem } from "../api/types";
import { splitFailed, trendPoints } from "./trend";

const a = (id: string, created_at: string, status: HistoryItem["status"], dominant_emotion: string | null = null, negative_share: number | null = null) =>
  ({ id, created_at, status, dominant_emotion, negative_share }) as HistoryItem;

describe("trend", () => {
  const items = [
    a("n", "2026-11-24T10:00:00Z", "succeeded", "happy"),
    a("f", "2026-11-23T10:00:00Z", "failed"),
    a("m", "2026-11-22T10:00:00Z", "succeeded", "sad", 0.4),
    a("q", "2026-11-25T10:00:00Z", "processing"),
    a("z", "2026-11-21T10:00:00Z", "succeeded", null),
  ];
  it("keeps finished analyses with a face, oldest first, with the negative share when known", () => {
    const points = trendPoints(items);
    expect(points.map((p) => [p.id, p.dominant, p.negativeShare])).toEqual([
      ["m", "sad", 0.4],
      ["n", "happy", null],
    ]);
    expect(trendPoints(items, 1).map((p) => p.id)).toEqual(["n"]);
  });
  it("sets failed analyses apart", () => {
    const { active, failed } = splitFailed(items);
    expect(active.map((x) => x.id)).toEqual(["n", "m", "q", "z"]);
    expect(failed.map((x) => x.id)).toEqual(["f"]);
  });
});
