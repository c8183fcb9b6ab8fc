/** Plain explanations for a failed analysis, by the worker's error_code. */
export function failureMessage(code: string | null | undefined): { title: string; advice: string } {
  switch (code) {
    case "no_face":
      return {
        title: "We couldn't find a face in this video",
        advice:
          "Make sure your whole face is visible, facing the camera, with light in front of you rather than behind. Then record or upload again.",
      };
    case "unreadable_video":
      return {
        title: "We couldn't read this video",
        advice: "The file may be damaged or in a format we can't decode. Try recording again, or upload an MP4 or WebM file.",
      };
    case "no_frames":
      return {
        title: "The video had no frames to analyse",
        advice: "It may be too short or empty. Please record or upload a video of at least a few seconds.",
      };
    case "internal":
      return {
        title: "Something went wrong on our side",
        advice: "This isn't caused by your video. Please try again in a few minutes.",
      };
    default:
      return { title: "The analysis didn't finish", advice: "Please try again. If it keeps happening, contact us." };
  }
}
