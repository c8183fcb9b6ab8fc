import { describe, expect, it } from "vitest";
import { PERSON_A, PERSON_B, PERSON_C } from "../test/fixtures";
import { ribbonBands } from "./ribbon";
import { keyFigures, summarySentences } from "./summary";
import { withArticle } from "./words";

const phrases = { turned_away: "the face was turned away from the camera", too_dark: "the face was too dark" };

describe("summarySentences", () => {
  it("says the main expression, when the others happened, and whether a negative one lasted", () => {
    const [first, second] = summarySentences(PERSON_A, ribbonBands(PERSON_A.segments, 12), phrases);
    expect(first).toBe("Mostly neutral, with happy moments around 4 s and 11 s and a sad moment around 8 s; no sustained negative expression.");
    expect(second).toBe("For 1 s the face could not be read (mostly because the face was turned away from the camera); those moments are left out.");
  });

  it("names a sustained negative stretch with its length", () => {
    const person = {
      ...PERSON_A,
      dominant_emotion: "sad" as const,
      distribution: { ...PERSON_A.distribution, sad: 0.45, neutral: 0.3 },
      indicators: { ...PERSON_A.indicators!, sustained_negative_affect: true, longest_negative_run_s: 4.2, negative_share: 0.45 },
      segments: [{ start_t: 0, end_t: 12, emotion: "sad" as const, gap_reason: null }],
    };
    expect(summarySentences(person, ribbonBands(person.segments, 12))).toEqual(["Often sad; a negative expression lasted 4.2 s without a break."]);
  });

  it("says when there was no negative expression at all, and when nothing could be read", () => {
    expect(summarySentences(PERSON_B, ribbonBands(PERSON_B.segments, 12))[0]).toBe("Mostly surprised; no negative expression.");
    expect(summarySentences(PERSON_C, ribbonBands(PERSON_C.segments, 12), phrases)).toEqual(["We could not read this person's expression: the face was too dark."]);
  });
});

describe("keyFigures", () => {
  it("gives three numbers, each with one line of explanation, and counts (not rates) on short clips", () => {
    const figures = keyFigures(PERSON_A, 12);
    expect(figures.map((f) => [f.label, f.value])).toEqual([
      ["Most frequent expression", "Neutral · 70%"],
      ["Face readable", "11 s of 12 s"],
      ["Changes of expression", "5"],
    ]);
    for (const f of figures) expect(f.explanation.length).toBeGreaterThan(20);
    const long = { ...PERSON_A, indicators: { ...PERSON_A.indicators!, observed_s: 90, emotion_changes_per_min: 3.3 } };
    expect(keyFigures(long, 95)[2].value).toBe("3.3 per minute");
    expect(keyFigures(PERSON_C, 12)).toEqual([]);
  });
});

describe("withArticle", () => {
  it("uses 'an' before a vowel", () => {
    expect(withArticle("angry")).toBe("an angry");
    expect(withArticle("sad")).toBe("a sad");
  });
});
