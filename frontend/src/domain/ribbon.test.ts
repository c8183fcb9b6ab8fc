import { describe, expect, it } from "vitest";
import { PERSON_A } from "../test/fixtures";
import { ribbonBands, secondsPerEmotion } from "./ribbon";

describe("ribbonBands", () => {
  it("covers the whole video, merges equal neighbours and keeps gaps with their reason", () => {
    const bands = ribbonBands(
      [
        { start_t: 1, end_t: 2, emotion: "happy", gap_reason: null, unclear: false },
        { start_t: 2, end_t: 3, emotion: "happy", gap_reason: null, unclear: false },
        { start_t: 3, end_t: 4, emotion: null, gap_reason: "turned_away", unclear: false },
        { start_t: 5, end_t: 6, emotion: "sad", gap_reason: null, unclear: false },
      ],
      8,
    );
    expect(bands.map((b) => [b.start, b.end, b.emotion, b.gapReason])).toEqual([
      [0, 1, null, "not_visible"],
      [1, 3, "happy", null],
      [3, 4, null, "turned_away"],
      [4, 5, null, "not_visible"],
      [5, 6, "sad", null],
      [6, 8, null, "not_visible"],
    ]);
    expect(bands.reduce((s, b) => s + b.fraction, 0)).toBeCloseTo(1, 9);
  });

  it("closes sampling jitter between segments instead of drawing a sliver of a gap", () => {
    const bands = ribbonBands(
      [
        { start_t: 0, end_t: 1.99, emotion: "neutral", gap_reason: null, unclear: false },
        { start_t: 2.01, end_t: 4, emotion: "happy", gap_reason: null, unclear: false },
      ],
      4,
    );
    expect(bands.map((b) => b.emotion)).toEqual(["neutral", "happy"]);
  });

  it("clips segments that run past the video and handles an empty person", () => {
    expect(ribbonBands([], 0)).toEqual([]);
    expect(ribbonBands([], 5).map((b) => b.gapReason)).toEqual(["not_visible"]);
    const bands = ribbonBands(PERSON_A.segments, 12);
    expect(bands[bands.length - 1].end).toBe(12);
    expect(secondsPerEmotion(bands).happy).toBeCloseTo(2.4, 6);
  });
});
