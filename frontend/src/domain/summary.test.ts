import { describe, expect, it } from "vitest";
import { PERSON_A, PERSON_B, PERSON_C } from "../test/fixtures";
import type { ReadBand } from "./confidence";
import { ribbonBands } from "./ribbon";
import { dominantUnclear, keyFigures, summarySentences } from "./summary";
import { withArticle } from "./words";

/** The band as the report reads it (the worker's segments carry whether each stretch was clear). */
const bandsOf = (segments: Parameters<typeof ribbonBands>[0], duration = 12): ReadBand[] => ribbonBands(segments, duration);

const phrases = { turned_away: "the face was turned away from the camera", too_dark: "the face was too dark" };

describe("summarySentences", () => {
  it("leads with the conclusion in plain words, without timestamps", () => {
    const sentences = summarySentences(PERSON_A, bandsOf(PERSON_A.segments), phrases);
    expect(sentences).toEqual([
      "Mostly neutral, sometimes happy and briefly sad.",
      "No lasting negative expression.",
      "For 1 s the face couldn't be read (mostly because the face was turned away from the camera).",
    ]);
    expect(sentences.join(" ")).not.toMatch(/around \d/);
  });

  it("calls a stretch unclear rather than naming an expression the model was unsure of", () => {
    const unsure = [{ start_t: 0, end_t: 12, emotion: "angry" as const, gap_reason: null, confidence: 0.3, unclear: true }];
    const bands = ribbonBands(unsure, 12);
    expect(bands[0]).toMatchObject({ emotion: "angry", unclear: true, confidence: expect.closeTo(0.3) });
    const person = { ...PERSON_A, dominant_emotion: "angry" as const, distribution: { ...PERSON_A.distribution, angry: 1 }, segments: unsure };
    expect(summarySentences(person, bands)[0]).toMatch(/^We could not tell this person's expression: the model was unsure throughout \(it leaned towards angry\)/);
    expect(dominantUnclear(person)).toBe(true); // the people picker says "mostly unclear", not "mostly angry"
    expect(dominantUnclear(PERSON_A)).toBe(false);
    expect(keyFigures(person, 12)[0]).toMatchObject({ value: "Unclear", explanation: expect.stringMatching(/leaned towards angry/) });
    // a sustained negative stretch the model was unsure of is not stated as fact
    const sustained = { ...person, indicators: { ...person.indicators!, sustained_negative_affect: true, longest_negative_run_s: 12, negative_share: 1 } };
    expect(summarySentences(sustained, bands)[1]).toBe("A stretch of 12 s may have been negative, but the model was unsure of it.");
    // a sure stretch keeps its name
    const sure = ribbonBands([{ ...unsure[0], confidence: 0.8, unclear: false }], 12);
    expect(sure[0].unclear).toBe(false);
    expect(summarySentences(person, sure)[0]).toBe("Mostly angry.");
  });

  it("leads with 'unclear' when the model was unsure most of the time (fer_woman2: once 'most often happy')", () => {
    const mostly = [
      { start_t: 0, end_t: 0.6, emotion: "happy" as const, gap_reason: null, confidence: 0.8, unclear: false },
      { start_t: 0.6, end_t: 12, emotion: "fear" as const, gap_reason: null, confidence: 0.5, unclear: true },
    ];
    const person = { ...PERSON_A, segments: mostly };
    expect(summarySentences(person, ribbonBands(mostly, 12)).slice(0, 2)).toEqual([
      "The expression was unclear most of the time (11 s of 12 s).",
      "In the 0.6 s the model was sure of: happy.",
    ]);
  });

  it("names a sustained negative stretch with its length", () => {
    const person = {
      ...PERSON_A,
      dominant_emotion: "sad" as const,
      distribution: { ...PERSON_A.distribution, sad: 0.45, neutral: 0.3 },
      indicators: { ...PERSON_A.indicators!, sustained_negative_affect: true, longest_negative_run_s: 4.2, negative_share: 0.45 },
      segments: [{ start_t: 0, end_t: 12, emotion: "sad" as const, gap_reason: null, unclear: false }],
    };
    expect(summarySentences(person, bandsOf(person.segments))).toEqual(["Mostly sad.", "A negative expression lasted 4.2 s without a break."]);
  });

  it("says when there was no negative expression at all, and when nothing could be read", () => {
    expect(summarySentences(PERSON_B, bandsOf(PERSON_B.segments))).toEqual(["Mostly surprised.", "No negative expression."]);
    expect(summarySentences(PERSON_C, bandsOf(PERSON_C.segments), phrases)).toEqual(["We could not read this person's expression: the face was too dark."]);
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

  it("shows the document's readable seconds, never more than the video (fer_woman2: once '16 s of 15 s')", () => {
    // 78 frames at 5 per second used to make 15.6 s of a 15.5 s video; the worker now sums the frames' spans
    const woman = { ...PERSON_A, readable_s: 15.5, seen_s: 15.5, indicators: { ...PERSON_A.indicators!, observed_s: 15.5 } };
    expect(keyFigures(woman, 15.5)[1].value).toBe("16 s of 16 s");
    expect(keyFigures({ ...woman, readable_s: 15.4 }, 15.5)[1].value).toBe("15 s of 16 s");
  });
});

describe("withArticle", () => {
  it("uses 'an' before a vowel", () => {
    expect(withArticle("angry")).toBe("an angry");
    expect(withArticle("sad")).toBe("a sad");
  });
});
