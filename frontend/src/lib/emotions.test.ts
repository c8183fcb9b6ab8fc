import { describe, expect, it } from "vitest";
import type { FrameResult } from "../api/types";
import { EMOTIONS, distributionRows, emotionLabel, mainFace, timelineRows } from "./emotions";

const probs = (over: Partial<Record<string, number>>) => ({ angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0, ...over });

describe("emotions", () => {
  it("keeps the system-wide label order", () => {
    expect(EMOTIONS).toEqual(["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]);
  });

  it("labels known and unknown emotions", () => {
    expect(emotionLabel("happy")).toBe("Happy");
    expect(emotionLabel("contempt")).toBe("Contempt");
    expect(emotionLabel(null)).toBe("—");
  });

  it("builds timeline rows from the largest face and leaves gaps where no face was found", () => {
    const frames: FrameResult[] = [
      {
        t: 0,
        faces: [
          { box: [0, 0, 10, 10], emotion: "sad", probabilities: probs({ sad: 0.9, happy: 0.1 }), crop: null },
          { box: [0, 0, 50, 50], emotion: "happy", probabilities: probs({ happy: 0.8, neutral: 0.2 }), crop: "0_1.jpg" },
        ],
      },
      { t: 0.2, faces: [] },
    ];
    const rows = timelineRows(frames);
    expect(rows).toHaveLength(2);
    expect(rows[0].happy).toBe(0.8);
    expect(rows[0].sad).toBe(0);
    expect(rows[1].t).toBe(0.2);
    for (const e of EMOTIONS) expect(rows[1][e]).toBeNull();
    expect(mainFace(frames[0])?.emotion).toBe("happy");
  });

  it("orders distribution rows by label order and fills missing labels with 0", () => {
    const rows = distributionRows({ happy: 0.75, neutral: 0.25 } as never, { happy: 0.6 } as never);
    expect(rows.map((r) => r.emotion)).toEqual([...EMOTIONS]);
    expect(rows.find((r) => r.emotion === "happy")).toMatchObject({ share: 0.75, mean: 0.6, label: "Happy" });
    expect(rows.find((r) => r.emotion === "angry")).toMatchObject({ share: 0, mean: 0 });
  });
});
