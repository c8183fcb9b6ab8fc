import { describe, expect, it } from "vitest";
import { CONFIG } from "../test/helpers";
import { checkDuration, checkVideoFile, validateEmail, validateNewPassword, validatePasswordConfirmation } from "./validation";

describe("form validation", () => {
  it("checks e-mail addresses", () => {
    expect(validateEmail("")).toMatch(/enter your e-mail/i);
    expect(validateEmail("not-an-email")).toMatch(/valid e-mail/i);
    expect(validateEmail(" person@example.org ")).toBeNull();
  });

  it("matches the server's password rules", () => {
    expect(validateNewPassword("")).toMatch(/choose a password/i);
    expect(validateNewPassword("short")).toMatch(/at least 8/);
    expect(validateNewPassword("        ")).toMatch(/only spaces/);
    expect(validateNewPassword("x".repeat(129))).toMatch(/at most 128/);
    expect(validateNewPassword("correct horse")).toBeNull();
  });

  it("requires the confirmation to match", () => {
    expect(validatePasswordConfirmation("abcdefgh", "")).toMatch(/again/);
    expect(validatePasswordConfirmation("abcdefgh", "abcdefgX")).toMatch(/do not match/);
    expect(validatePasswordConfirmation("abcdefgh", "abcdefgh")).toBeNull();
  });
});

describe("video file checks", () => {
  const file = (name: string, size: number, type: string) => ({ name, size, type });

  it("accepts a supported video within the limits", () => {
    expect(checkVideoFile(file("clip.MP4", 1000, "video/mp4"), CONFIG)).toBeNull();
    expect(checkVideoFile(file("clip.avi", 1000, ""), CONFIG)).toBeNull();
  });

  it("rejects other file types", () => {
    expect(checkVideoFile(file("notes.pdf", 1000, "application/pdf"), CONFIG)).toMatch(/isn't supported/);
    expect(checkVideoFile(file("clip.mp4", 1000, "application/pdf"), CONFIG)).toMatch(/isn't supported/);
  });

  it("rejects empty and oversized files with the limit in the message", () => {
    expect(checkVideoFile(file("clip.mp4", 0, "video/mp4"), CONFIG)).toMatch(/empty/);
    expect(checkVideoFile(file("clip.mp4", CONFIG.max_upload_bytes + 1, "video/mp4"), CONFIG)).toMatch(/limit is 50 MB/);
  });

  it("refuses videos longer than the server allows, and explains the rest outside 5-30 s before sending", () => {
    expect(checkDuration(61, CONFIG)).toEqual({ refuse: expect.stringMatching(/limit is 1 min\./) });
    expect(checkDuration(0.2, CONFIG)).toEqual({ note: expect.stringMatching(/only 0\.2 s long\. We need at least 5 seconds/), short: true });
    expect(checkDuration(4.9, CONFIG)).toHaveProperty("short", true);
    expect(checkDuration(5, CONFIG)).toBeNull();
    expect(checkDuration(30, CONFIG)).toBeNull();
    expect(checkDuration(45, CONFIG)).toEqual({ note: expect.stringMatching(/45 s long — longer than the 5–30 seconds we suggest/) });
    expect(checkDuration(null, CONFIG)).toEqual({ note: expect.stringMatching(/couldn't read this video's length/) });
  });
});
