import { describe, expect, it } from "vitest";
import { CONFIG } from "../test/helpers";
import { HINTS, readableSeconds, recordingVerdict, type CheckState } from "./hints";
import { assess, estimateYawDeg, eyeRollDeg, greyImage, laplacianVariance, meanStd, type FaceMeasures } from "./quality";

const T = CONFIG.face_check.quality;
const good: FaceMeasures = { facePx: 100, sharpness: 500, brightness: 120, contrast: 50, yawDeg: 5 };

describe("the worker's quality gate on a camera frame", () => {
  it("gives the first reason in the worker's order (size, light, focus, pose)", () => {
    expect(assess(good, T)).toBeNull();
    expect(assess({ ...good, facePx: 5, brightness: 5 }, T)).toBe("too_small");
    expect(assess({ ...good, brightness: 5, sharpness: 1 }, T)).toBe("too_dark");
    expect(assess({ ...good, brightness: 250 }, T)).toBe("overexposed");
    expect(assess({ ...good, contrast: 1 }, T)).toBe("low_contrast");
    expect(assess({ ...good, sharpness: 1, yawDeg: 80 }, T)).toBe("blurred");
    expect(assess({ ...good, yawDeg: -60 }, T)).toBe("turned_away");
    expect(assess({ ...good, yawDeg: null }, T)).toBeNull();
    // exactly on a threshold is still readable, as in the worker (strict comparisons)
    expect(assess({ ...good, facePx: T.min_face_px, brightness: T.min_brightness, contrast: T.min_contrast, sharpness: T.min_sharpness, yawDeg: T.max_yaw_deg }, T)).toBeNull();
  });

  it("estimates yaw and roll from the landmarks like the worker (tests/worker/test_quality.py's faces)", () => {
    const yaw = (noseX: number) => estimateYawDeg([40, 50], [60, 50], [noseX, 62], 0.55);
    expect(yaw(50)).toBeCloseTo(0);
    expect(yaw(58)).toBeGreaterThan(20);
    expect(yaw(42)).toBeCloseTo(-yaw(58));
    expect(estimateYawDeg([10, 10], [10, 10], [10, 20], 0.55)).toBe(90);
    expect(eyeRollDeg([0, 0], [10, 10])).toBeCloseTo(45);
  });

  it("measures grey level, contrast and the Laplacian's variance as OpenCV does", () => {
    // a 4×4 RGBA image: grey levels 0 and 100 in a checkerboard of 2×2 blocks
    const size = 4;
    const rgba = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      const x = i % size;
      const y = Math.floor(i / size);
      const v = (Math.floor(x / 2) + Math.floor(y / 2)) % 2 ? 100 : 0;
      rgba.set([v, v, v, 255], i * 4);
    }
    const grey = greyImage(rgba, size);
    expect(meanStd(grey)).toEqual({ mean: 50, std: 50 });
    expect(laplacianVariance(new Float64Array(16).fill(7), 4, 4)).toBe(0);
    // numbers from cv2.Laplacian(img, cv2.CV_64F).var() on this image
    expect(laplacianVariance(grey, size, size)).toBeCloseTo(15000, 6);
    expect(greyImage([255, 0, 0, 255], 1)[0]).toBe(76); // 0.299 · 255, rounded as cv2's uint8 grey
  });
});

describe("what the face check says", () => {
  it("has a hint for every verdict, and only a readable face reads as fine", () => {
    const states: CheckState[] = ["loading", "unavailable", "no_face", "too_small", "too_dark", "overexposed", "low_contrast", "blurred", "turned_away", "ok"];
    for (const s of states) expect(HINTS[s].text.length).toBeGreaterThan(10);
    expect(HINTS.no_face.text).toMatch(/No face found/);
    expect(HINTS.too_small.text).toMatch(/come closer/);
    expect(HINTS.too_dark.text).toMatch(/too dark/);
    expect(HINTS.turned_away.text).toMatch(/Turn toward the camera/);
    expect(states.filter((s) => !HINTS[s].ok)).toEqual(["no_face", "too_small", "too_dark", "overexposed", "low_contrast", "blurred", "turned_away"]);
  });

  it("counts the readable seconds of a recording, each verdict standing until the next (at most 1.5 s)", () => {
    const samples = [
      { t: 0, readable: true },
      { t: 1000, readable: false },
      { t: 2000, readable: true },
      { t: 2500, readable: true },
      { t: 9000, readable: true }, // outside the recording
    ];
    expect(readableSeconds(samples, 0, 4000)).toBeCloseTo(1 + 0.5 + 1.5);
    expect(readableSeconds(samples, 0, 4000, 10_000)).toBeCloseTo(1 + 0.5 + 1.5);
    expect(readableSeconds([], 0, 4000)).toBe(0);
    // the verdict just before recording started covers its first moments
    expect(readableSeconds([{ t: -100, readable: true }, { t: 150, readable: true }], 0, 1000)).toBeCloseTo(1);
    expect(readableSeconds([{ t: -5000, readable: true }, { t: 150, readable: true }], 0, 1000)).toBeCloseTo(0.85);
  });

  it("offers a retake when too little of the recording was readable", () => {
    expect(recordingVerdict(null, 7, 5)).toBeNull();
    expect(recordingVerdict(0.1, 7, 5)).toMatchObject({ retake: true, text: expect.stringMatching(/couldn't be read/) });
    expect(recordingVerdict(3.2, 7, 5)).toEqual({ retake: true, text: expect.stringMatching(/only 3.2 of 7 seconds; at least 5 seconds/) });
    expect(recordingVerdict(6.4, 7, 5)).toEqual({ retake: false, text: "Your face was readable for 6.4 of 7 seconds." });
    // a whole 5 s recording whose first check came a moment late is not sent back
    expect(recordingVerdict(4.9, 5, 5)).toEqual({ retake: false, text: "Your face was readable for 4.9 of 5 seconds." });
    expect(recordingVerdict(9, 7, 5)?.text).toMatch(/7 of 7 seconds/);
  });
});
