import { describe, expect, it } from "vitest";
import { PERSON_A } from "../test/fixtures";
import { observations } from "./observations";

describe("observations", () => {
  it("uses durations and counts, states the threshold, and never shows a rate on a short clip", () => {
    const obs = observations(PERSON_A.indicators);
    expect(obs.map((o) => o.key)).toEqual(["negative_share", "sustained_negative_affect", "longest_negative_run_s", "expression_variability"]);
    expect(obs[0].value).toBe("5% · 0.6 s");
    expect(obs[0].text).toContain("For about 0.6 s of the 11 s that could be read, the model clearly saw");
    expect(observations({ ...PERSON_A.indicators!, negative_share: 0 })[0].text).toContain("stretches it was unsure of are left out");
    expect(obs[1]).toMatchObject({ value: "Not seen", text: "No negative expression lasted 3 s or longer without a break." });
    expect(obs[3].value).toBe("Some");
    expect(obs[3].text).toContain("changed 5 times");
    expect(obs.map((o) => o.text).join(" ")).not.toMatch(/per minute|\/ min/);
  });

  it("adds the per-minute figure only when the server gives one, and nothing for an unread person", () => {
    const obs = observations({ ...PERSON_A.indicators!, emotion_changes_per_min: 4.5, observed_s: 80 });
    expect(obs[3].text).toContain("(4.5 per minute)");
    expect(observations(null)).toEqual([]);
  });
});
