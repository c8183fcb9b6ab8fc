import { describe, expect, it } from "vitest";
import type { FrameResult } from "../api/types";
import { RESULT } from "../test/fixtures";
import { personThumbnail, probabilityRows, readableFaces, type ReadFace } from "./frames";

const only = (over: Record<string, number>) => ({ angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0, ...over });

describe("a person's readable faces", () => {
  it("leaves out unread faces and other people's", () => {
    const faces = readableFaces(RESULT.frames, 1);
    expect(faces.map((f) => [f.t, f.crop])).toEqual([
      [0, "0_0.jpg"],
      [4, "20_0.jpg"],
    ]);
  });

  it("pictures a person by a readable face only: never an unread crop, nothing when never readable", () => {
    const frames = RESULT.frames as FrameResult[];
    expect(personThumbnail({ track_id: 1, crop: "track_1.jpg", assessable_frames: 5 }, frames)).toBe("track_1.jpg");
    // the unread face at 6.4 s carries no crop (the worker stores none), so it can never be the fallback
    expect(frames[2].faces[0].crop).toBeNull();
    expect(personThumbnail({ track_id: 1, crop: null, assessable_frames: 5 }, frames)).toBe("0_0.jpg");
    expect(personThumbnail({ track_id: 3, crop: "track_3.jpg", assessable_frames: 0 }, frames)).toBeNull();
  });
});

describe("the probability lines", () => {
  const face = (t: number, probabilities: Record<string, number>): ReadFace => ({ t, emotion: "neutral", crop: null, probabilities });

  it("are the per-frame probabilities, lightly smoothed, and break where frames are missing", () => {
    const faces = [face(0, only({ angry: 0.9, neutral: 0.1 })), face(0.2, only({ angry: 0.3, neutral: 0.7 })), face(0.4, only({ angry: 0.6, neutral: 0.4 })), face(3, only({ happy: 1 }))];
    const rows = probabilityRows(faces, 0.4, 0.6);
    expect(rows.map((r) => r.t)).toEqual([0, 0.2, 0.4, 1.7, 3]);
    expect(rows[0].angry).toBeCloseTo(0.6); // mean of 0.9 and 0.3 (0.4 s away is outside ±0.3 s)
    expect(rows[1].angry).toBeCloseTo(0.6); // mean of all three
    expect(rows[1].neutral).toBeCloseTo(0.4);
    expect(rows[3].angry).toBeNull(); // the break
    expect(rows[4].happy).toBe(1); // alone in its run: not smoothed with anything
    // not the smoothed state's 0 % / 100 %: a raised angry probability stays visible
    expect(Math.max(...rows.map((r) => r.angry ?? 0))).toBeGreaterThan(0.5);
  });
});
