/** The first container/codec this browser's MediaRecorder supports, preferring WebM. */
export function pickRecorderMimeType(isSupported: (t: string) => boolean = (t) => MediaRecorder.isTypeSupported(t)): string {
  const candidates = ["video/webm;codecs=vp8", "video/webm;codecs=vp9", "video/webm", "video/mp4;codecs=avc1", "video/mp4"];
  for (const c of candidates) {
    try {
      if (isSupported(c)) return c;
    } catch {
      // isTypeSupported can throw on exotic strings in old browsers
    }
  }
  return "";
}

export function extensionForMime(mime: string): string {
  return mime.startsWith("video/mp4") ? ".mp4" : ".webm";
}

/** Explains a getUserMedia failure in plain words. */
export function cameraErrorMessage(err: unknown): { denied: boolean; message: string } {
  const name = err && typeof err === "object" && "name" in err ? String((err as { name: unknown }).name) : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return {
        denied: true,
        message:
          "Camera access was blocked. Allow the camera for this site in your browser's address bar or settings, then try again. You can also upload a video instead.",
      };
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return { denied: false, message: "We couldn't find a camera. Connect one and try again, or upload a video instead." };
    case "NotReadableError":
    case "TrackStartError":
      return { denied: false, message: "Your camera is being used by another app. Close it and try again." };
    default:
      return { denied: false, message: "We couldn't start your camera. Try again, or upload a video instead." };
  }
}

/** Reads a video file's duration in the browser; null when the browser can't tell (e.g. AVI). */
export function probeDuration(file: Blob, timeoutMs = 4000): Promise<number | null> {
  return new Promise((resolve) => {
    if (typeof document === "undefined" || typeof URL.createObjectURL !== "function") {
      resolve(null);
      return;
    }
    const video = document.createElement("video");
    const url = URL.createObjectURL(file);
    let done = false;
    const finish = (v: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      video.removeAttribute("src");
      video.load?.();
      URL.revokeObjectURL(url);
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    video.preload = "metadata";
    video.muted = true;
    video.onloadedmetadata = () => finish(Number.isFinite(video.duration) ? video.duration : null);
    video.onerror = () => finish(null);
    video.src = url;
  });
}
