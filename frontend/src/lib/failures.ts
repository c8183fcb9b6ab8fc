import type { ErrorCode } from "../api/types";

interface Failure {
  title: string;
  advice: string;
}

const UNFINISHED: Failure = { title: "The analysis didn't finish", advice: "Please try again. If it keeps happening, contact us." };
const OUR_SIDE: Failure = {
  title: "Something went wrong on our side",
  advice: "This isn't caused by your video. Please try again in a few minutes.",
};

/** One explanation per error code: the build fails when the API gains a code without one. */
const FAILURES: Record<ErrorCode, Failure> = {
  no_face: {
    title: "We couldn't find a face in this video",
    advice:
      "Make sure your whole face is visible, facing the camera, with light in front of you rather than behind. Then record or upload again.",
  },
  unreadable_video: {
    title: "We couldn't read this video",
    advice: "The file may be damaged or in a format we can't decode. Try recording again, or upload an MP4 or WebM file.",
  },
  no_frames: {
    title: "The video had no frames to analyse",
    advice: "It may be too short or empty. Please record or upload a video of at least a few seconds.",
  },
  no_assessable_face: UNFINISHED,
  timeout: UNFINISHED,
  invalid_result: OUR_SIDE,
  internal: OUR_SIDE,
};

/** Plain explanations for a failed analysis, by the worker's error_code. */
export function failureMessage(code: ErrorCode | null | undefined): Failure {
  return (code && FAILURES[code]) || UNFINISHED;
}
