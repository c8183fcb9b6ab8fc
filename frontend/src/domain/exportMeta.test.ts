import { describe, expect, it } from "vitest";
import { csvPreamble, exportFilename, exportMeta } from "./exportMeta";

const ctx = { analysisId: "0f5e8c1a-1111-2222-3333-444455556666", filename: "my clip (1).mp4", createdAt: "2026-11-24T10:00:00Z", personLabel: "Person 2" };

describe("exports", () => {
  it("names files by date and video name", () => {
    expect(exportFilename(ctx, "json")).toBe("bloomwell-2026-11-24-my-clip-1.json");
    expect(exportFilename({ ...ctx, filename: null }, "csv")).toBe("bloomwell-2026-11-24-0f5e8c1a.csv");
  });

  it("carries the notice, the file, the dates and the person", () => {
    const now = new Date("2026-11-25T08:00:00Z");
    const meta = exportMeta(ctx, now);
    expect(meta.disclaimer).toMatch(/^Bloomwell is not a diagnosis\./);
    expect(meta).toMatchObject({ filename: "my clip (1).mp4", analysed_at: ctx.createdAt, exported_at: "2026-11-25T08:00:00.000Z", person_shown: "Person 2" });
    const lines = csvPreamble(ctx, now).trimEnd().split("\n");
    expect(lines.every((l) => l.startsWith("# "))).toBe(true);
    expect(lines[0]).toMatch(/^# disclaimer: Bloomwell is not a diagnosis/);
  });
});
