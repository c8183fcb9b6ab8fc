import type { PublicConfig } from "../api/types";
import { formatBytes, formatSeconds } from "./format";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export function validateEmail(email: string): string | null {
  const v = email.trim();
  if (!v) return "Enter your e-mail address.";
  if (v.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return "Enter a valid e-mail address, like name@example.com.";
  return null;
}

export function validateName(value: string, what: string): string | null {
  const v = value.trim();
  if (!v) return `Enter your ${what}.`;
  if (v.length > 100) return `Your ${what} must be at most 100 characters.`;
  return null;
}

export function validateNewPassword(password: string): string | null {
  if (!password) return "Choose a password.";
  if (password.length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  if (!password.trim()) return "Your password can't be only spaces.";
  return null;
}

export function validatePasswordConfirmation(password: string, confirmation: string): string | null {
  if (!confirmation) return "Type your password again.";
  if (password !== confirmation) return "The passwords do not match.";
  return null;
}

export function extensionOf(name: string): string {
  const i = name.lastIndexOf(".");
  return i >= 0 ? name.slice(i).toLowerCase() : "";
}

function normaliseExt(ext: string): string {
  const e = ext.trim().toLowerCase();
  return e.startsWith(".") ? e : `.${e}`;
}

/**
 * Checks a chosen file against the server's published limits before anything is uploaded.
 * Returns a sentence for the person, or null when the file looks acceptable.
 */
export function checkVideoFile(file: { name: string; size: number; type: string }, config: PublicConfig): string | null {
  const exts = config.accepted_extensions.map(normaliseExt);
  const ext = extensionOf(file.name);
  const mimeOk = !file.type || config.accepted_mime_types.includes(file.type) || file.type.startsWith("video/");
  if (!exts.includes(ext) || !mimeOk) {
    return `This file type isn't supported. Please choose a video (${exts.join(", ")}).`;
  }
  if (file.size === 0) return "This file is empty.";
  if (file.size > config.max_upload_bytes) {
    return `This video is ${formatBytes(file.size)}; the limit is ${formatBytes(config.max_upload_bytes)}.`;
  }
  return null;
}

/**
 * What the length read in the browser means for an upload: `refuse` stops it; a `note` is said before sending, and
 * `short` asks for a deliberate "anyway".
 */
export type DurationCheck = { refuse: string } | { note: string; short?: boolean } | null;

/**
 * The chosen video's length against the published limits: longer than `max_duration_s` is refused (the server would);
 * outside `min_record_s`–`max_record_s` it is explained before sending (too short to follow an expression, or longer
 * than needed); an unreadable length is said so (the server checks it).
 */
export function checkDuration(durationS: number | null, config: PublicConfig): DurationCheck {
  const range = `${config.min_record_s}–${config.max_record_s} seconds`;
  if (durationS == null || !Number.isFinite(durationS)) {
    return { note: `We couldn't read this video's length here; the server will check it. ${range} works best.` };
  }
  const length = formatSeconds(durationS);
  if (durationS > config.max_duration_s + 0.5) {
    return { refuse: `This video is ${length} long; the limit is ${formatSeconds(config.max_duration_s)}. Please trim it or record a shorter one.` };
  }
  if (durationS < config.min_record_s) {
    return {
      note: `This video is only ${length} long. We need at least ${config.min_record_s} seconds of your face to follow an expression, so it will probably not be readable — choose a longer clip (${range}), or record one with the webcam.`,
      short: true,
    };
  }
  if (durationS > config.max_record_s + 0.5) {
    return {
      note: `This video is ${length} long — longer than the ${range} we suggest. It can still be analysed (up to ${formatSeconds(config.max_duration_s)}); it will take a little longer.`,
    };
  }
  return null;
}
