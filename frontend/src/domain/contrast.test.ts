import { describe, expect, it } from "vitest";
import { contrastRatio, deltaE, hexToRgb, simulate, textColorOn } from "./contrast";
import { BACKGROUNDS, EMOTIONS, EMOTION_COLORS, EMOTION_DASHES } from "./emotions";

describe("palette", () => {
  it("computes WCAG contrast like the reference values", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
    // the old happy colour, reported as 2.25:1
    expect(contrastRatio("#e69f00", "#ffffff")).toBeCloseTo(2.25, 2);
  });

  it("gives every expression colour at least 3:1 against the page and card backgrounds", () => {
    for (const e of EMOTIONS) for (const bg of BACKGROUNDS) expect(contrastRatio(EMOTION_COLORS[e], bg), `${e} on ${bg}`).toBeGreaterThanOrEqual(3);
  });

  it("keeps band labels readable: black or white text at 4.5:1 or more on every colour", () => {
    for (const e of EMOTIONS) expect(contrastRatio(EMOTION_COLORS[e], textColorOn(EMOTION_COLORS[e])), e).toBeGreaterThanOrEqual(4.5);
  });

  it("keeps every pair of colours apart with protanopia and deuteranopia (the old palette did not)", () => {
    const minPair = (colors: Record<string, string>, deficiency: "protanopia" | "deuteranopia") => {
      const names = Object.keys(colors);
      let min = Infinity;
      for (let i = 0; i < names.length; i++)
        for (let j = i + 1; j < names.length; j++)
          min = Math.min(min, deltaE(simulate(hexToRgb(colors[names[i]]), deficiency), simulate(hexToRgb(colors[names[j]]), deficiency)));
      return min;
    };
    for (const d of ["protanopia", "deuteranopia"] as const) expect(minPair(EMOTION_COLORS, d), d).toBeGreaterThanOrEqual(15);
    const old = { angry: "#d55e00", disgust: "#6b8e23", fear: "#8e6bbf", happy: "#e69f00", neutral: "#7a8794", sad: "#0072b2", surprise: "#cc79a7" };
    expect(minPair(old, "protanopia")).toBeLessThan(6); // fear ≈ sad, as the issue found
  });

  it("gives each probability line its own dash pattern", () => {
    const patterns = EMOTIONS.map((e) => EMOTION_DASHES[e] ?? "solid");
    expect(new Set(patterns).size).toBe(EMOTIONS.length);
  });
});
