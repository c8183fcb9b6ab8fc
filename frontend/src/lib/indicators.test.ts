import { describe, expect, it } from "vitest";
import { describeIndicators } from "./indicators";

describe("describeIndicators", () => {
  const ind = {
    negative_share: 0.12,
    sustained_negative_affect: false,
    longest_negative_run_s: 0.8,
    expression_variability: 0.41,
    emotion_changes_per_min: null,
    expression_changes: 2,
    observed_s: 15,
    sustained_negative_s: 3,
  };

  it("words every indicator as an observation about the video", () => {
    const obs = describeIndicators(ind, { dominant_emotion: "happy", duration_s: 15 });
    expect(obs.map((o) => o.key)).toEqual([
      "negative_share",
      "sustained_negative_affect",
      "longest_negative_run_s",
      "expression_variability",
      "expression_changes",
    ]);
    expect(obs[0].text).toContain("12%");
    expect(obs[1].value).toBe("Not observed");
    expect(obs[2].text).toContain("0.8 s");
    expect(obs[3].text).toContain("some variety");
    expect(obs[4].text).toContain("changed 2 times in 15 s");
    expect(obs[4].text).toContain("most often happy");
    // Observations, never diagnoses.
    for (const o of obs) expect(o.text).not.toMatch(/depress|disorder|diagnos/i);
  });

  it("reports sustained negative expression when present", () => {
    const obs = describeIndicators({ ...ind, sustained_negative_affect: true, longest_negative_run_s: 0 }, { dominant_emotion: null, duration_s: 5 });
    expect(obs[1].value).toBe("Observed");
    expect(obs[2].text).toMatch(/no stretch/);
    expect(obs[4].text).not.toContain("most often");
  });
});
