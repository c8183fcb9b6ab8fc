/** Plain explanations for a failed analysis, one per `error_code` of the worker (`services/common/analysis.py`). */
import type { ErrorCode } from "../api/types";

export interface FailureText {
  /** What happened, as the page's heading. */
  title: string;
  /** The reason, as the main sentence (the worker's own sentence is used instead where `useWorkerReason`). */
  reason: string;
  /** A next step that can help. */
  next: string;
  /** The button that takes it. */
  action: { label: string; to: string };
  /** The worker's `error` sentence names the specific reason (which quality problem, which limit): lead with it. */
  useWorkerReason?: boolean;
}

const RECORD_AGAIN = { label: "Record or upload again", to: "/new" };

/** Every error code (the API's `ErrorCode` union) has its own heading, reason and next step: a missing one fails the
 *  build. */
export const FAILURES: Record<ErrorCode, FailureText> = {
  unreadable_video: {
    title: "We couldn't open this video",
    reason: "The file may be damaged, or it is in a format we can't decode.",
    next: "Record one with the webcam, or save the video again as MP4 or WebM and upload that.",
    action: RECORD_AGAIN,
  },
  no_frames: {
    title: "The video had no pictures to analyse",
    reason: "We couldn't decode a single frame from it: it may be empty, cut off, or contain only sound.",
    next: "Check that it plays on your device, then upload it again — or record a short clip with the webcam.",
    action: RECORD_AGAIN,
  },
  no_face: {
    title: "We couldn't find a face in this video",
    reason: "No face was visible in any of the moments we looked at.",
    next: "Record again with your whole face in the picture, facing the camera, with light in front of you. The live face check tells you when your face can be read.",
    action: { label: "Record again", to: "/new" },
  },
  no_assessable_face: {
    title: "We couldn't read a face",
    reason: "We found a face, but it was too small, dark, blurred, brief or turned away to read its expression.",
    next: "Record at least 5 seconds facing the camera, close enough that your face fills a good part of the picture, in even light, and hold still for a moment. The live face check tells you when your face can be read.",
    action: { label: "Record again", to: "/new" },
    useWorkerReason: true,
  },
  timeout: {
    title: "The analysis took too long",
    reason: "It was stopped at the time limit, so no report was made.",
    next: "Try a shorter clip — 5 to 30 seconds is enough — or try again later, when the service is less busy.",
    action: { label: "Try a shorter video", to: "/new" },
  },
  internal: {
    title: "Something went wrong on our side",
    reason: "The analysis failed for a reason that has nothing to do with your video.",
    next: "Please send the video again in a few minutes. If it keeps happening, contact us and we'll look into it.",
    action: { label: "Send it again", to: "/new" },
  },
  invalid_result: {
    title: "The report came out incomplete",
    reason: "Our checks found the analysis result inconsistent, so we didn't show it rather than show something wrong.",
    next: "Please analyse the video again. If it happens again, contact us and we'll look into it.",
    action: { label: "Analyse it again", to: "/new" },
  },
};

const UNKNOWN: FailureText = {
  title: "The analysis didn't finish",
  reason: "It stopped without telling us why.",
  next: "Please send the video again. If it keeps happening, contact us.",
  action: { label: "Send it again", to: "/new" },
};

/** A code this app has texts for (an older app may meet a code added later: it gets the general texts). */
function isKnown(code: string | null | undefined): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(FAILURES, code);
}

/** A failure as shown: its texts, with the worker's own sentence as the reason or as small print. */
export type Failure = FailureText & { detail: string | null };

/** The explanation for a failed analysis; `workerError` is the worker's sentence (`error`), when there is one. */
export function failureMessage(code: string | null | undefined, workerError?: string | null): Failure {
  const failure = isKnown(code) ? FAILURES[code] : UNKNOWN;
  const worker = workerError?.trim() || null;
  if (failure.useWorkerReason && worker) return { ...failure, reason: worker, detail: null };
  if (!isKnown(code) && worker) return { ...failure, reason: worker, detail: null };
  // the worker's sentence adds nothing the texts above don't say; keep it as the small-print detail
  return { ...failure, detail: worker };
}
