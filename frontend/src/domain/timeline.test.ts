import { describe, expect, it } from "vitest";
import { PERSON_A } from "../test/fixtures";
import { keyFigures } from "./summary";
import { timeSplit } from "./timeline";

const zero = { angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0 };
const point = (t: number, emotion: "fear" | "neutral") => ({ t, emotion, probabilities: { ...zero, [emotion]: 0.45 } });

/** fer_woman2's shape: 9 readable frames, 3 of them fear the model was unsure of, 6 clear neutral. */
const person = {
  ...PERSON_A,
  dominant_emotion: "neutral" as const,
  distribution: { ...zero, fear: 0.3333, neutral: 0.6667 },
  timeline: [0, 0.2, 0.4].map((t) => point(t, "fear")).concat([0.6, 0.8, 1, 1.2, 1.4, 1.6].map((t) => point(t, "neutral"))),
  segments: [
    { start_t: 0, end_t: 0.6, emotion: "fear" as const, gap_reason: null, confidence: 0.4, unclear: true },
    { start_t: 0.6, end_t: 1.8, emotion: "neutral" as const, gap_reason: null, confidence: 0.7, unclear: false },
  ],
  indicators: { ...PERSON_A.indicators!, observed_s: 1.8, negative_share: 0 },
};

describe("timeSplit", () => {
  it("counts unclear stretches apart, so the shares add up and the negative ones match the indicators", () => {
    const split = timeSplit(person);
    const share = (e: string) => split.rows.find((r) => r.emotion === e)!.share;
    expect(share("fear")).toBeCloseTo(0, 6);
    expect(share("neutral")).toBeCloseTo(0.6667, 4);
    expect(split.unclear).toBeCloseTo(0.3333, 4);
    expect(split.rows.reduce((sum, r) => sum + r.share, split.unclear)).toBeCloseTo(1, 3);
    const negative = split.rows.filter((r) => ["angry", "disgust", "fear", "sad"].includes(r.emotion)).reduce((s, r) => s + r.share, 0);
    expect(negative).toBeCloseTo(person.indicators.negative_share, 4);
    // the key figure names the clear share, as the breakdown does
    expect(keyFigures(person, 1.8)[0].value).toBe("Neutral · 67%");
  }, 20_000);

  it("splits only the frames inside an unclear segment, and leaves a person without unclear stretches as it is", () => {
    const partly = {
      ...person,
      segments: [
        { ...person.segments[0], unclear: false },
        { start_t: 0.6, end_t: 1.0, emotion: "neutral" as const, gap_reason: null, confidence: 0.45, unclear: true },
        { start_t: 1.0, end_t: 1.8, emotion: "neutral" as const, gap_reason: null, confidence: 0.7, unclear: false },
      ],
    };
    const split = timeSplit(partly);
    expect(split.rows.find((r) => r.emotion === "fear")!.share).toBeCloseTo(0.3333, 4);
    expect(split.rows.find((r) => r.emotion === "neutral")!.share).toBeCloseTo(0.4444, 3);
    expect(split.unclear).toBeCloseTo(0.2222, 3);
    const clear = timeSplit(PERSON_A);
    expect(clear.unclear).toBe(0);
    expect(clear.rows.map((r) => r.share)).toEqual([0, 0, 0, 0.25, 0.7, 0.05, 0]);
    expect(clear.rows[4].mean).toBeCloseTo(0.6);
  }, 20_000);
});
