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

  it("estimates from the server's measured speed, then from the pace once the job runs past it", () => {
    expect(remainingS(0, 0, 4.2)).toBeCloseTo(4.2, 6); // the server's expected_s, not a guess from the video's length
    expect(remainingS(0.51, 1.5, 4.2)).toBeCloseTo(2.7, 6); // once "about 45 s left" at 51 % of a 3.5 s job
    expect(remainingS(0.5, 20, 4.2)).toBeCloseTo(20, 6); // running far past the estimate: pace, 20 s for half
    expect(remainingS(0.99, 60, 4.2)).toBeGreaterThanOrEqual(1);
    expect(remainingS(0.05, 1, null)).toBeNull();
    expect(remainingText(null)).toBe("working out the time left");
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
