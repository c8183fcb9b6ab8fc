/**
 * The analysis contract's closed sets (`services/common/analysis.py`: `Stage`, `ErrorCode`) as unions, so every text
 * keyed by them is a `Record` the type checker holds complete.
 *
 * The API still types `stage` and `error_code` as plain strings; once its OpenAPI schema carries them as enums, these
 * two become `Schemas["Stage"]` and `Schemas["ErrorCode"]` from `api/generated.ts` and the lists below go. Until then
 * `contract.test.ts` checks the lists against the Python enums.
 */

export const STAGES = ["queued", "probing", "analyzing", "summarizing", "saving", "done", "failed"] as const;
export type Stage = (typeof STAGES)[number];

export const ERROR_CODES = ["unreadable_video", "no_frames", "no_face", "no_assessable_face", "timeout", "internal", "invalid_result"] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isStage(value: unknown): value is Stage {
  return typeof value === "string" && (STAGES as readonly string[]).includes(value);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}
