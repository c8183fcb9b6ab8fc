import { describe, expect, it } from "vitest";
import type { Stage } from "../api/types";
import { glide, remainingS, remainingText, stageLabel } from "./progress";

describe("the wait in words", () => {
  it("names stages as a person would, and never 'Probing'", () => {
    expect(stageLabel("processing", "probing")).toBe("Opening your video");
    expect(stageLabel("processing", "analyzing")).toBe("Finding faces and reading expressions");
    expect(stageLabel("queued", null)).toBe("Waiting for a free analyser");
    // a stage added to the API after this build was made
    expect(stageLabel("processing", "something_new" as Stage)).toBe("Working on it");
  });

  it("estimates from the video's length first, then from the pace", () => {
    expect(remainingS(0, 0, 10)).toBeCloseTo(33, 6);
    expect(remainingS(0.5, 20, 10)).toBeCloseTo(20, 6); // pace: 20 s for half
    expect(remainingS(0.99, 60, 10)).toBeGreaterThanOrEqual(1);
    expect(remainingText(3)).toBe("almost done");
    expect(remainingText(23)).toBe("about 25 s left");
    expect(remainingText(130)).toBe("about 2 min left");
  });

  it("glides towards the reported value, never backwards, creeping at most 3 points ahead", () => {
    let shown = 0;
    for (let i = 0; i < 100; i++) shown = glide(shown, 0.4);
    expect(shown).toBeGreaterThan(0.4);
    expect(shown).toBeLessThanOrEqual(0.43 + 1e-9);
    expect(glide(0.6, 0.2)).toBeGreaterThanOrEqual(0.6);
    expect(glide(0.1, 0.5)).toBeGreaterThan(0.1);
    expect(glide(0.1, 0.5)).toBeLessThanOrEqual(0.5);
  });
});
