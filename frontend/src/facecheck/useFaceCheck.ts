import { useEffect, useRef, useState, type RefObject } from "react";
import type { FaceCheckConfig } from "../api/types";
import type { CheckedFace, FaceChecker, FaceCheckResult } from "./detector";
import type { CheckState, Sample } from "./hints";

/** Least time between two checks: a few checks a second are plenty for a hint and leave the page responsive. */
const MIN_INTERVAL_MS = 200;

export interface FaceCheck {
  state: CheckState;
  /** The largest face of the latest check (source pixels) and its size of frame; null when none. */
  face: CheckedFace | null;
  faces: number;
  frame: { width: number; height: number } | null;
  /** Every verdict so far, for `readableSeconds` (performance.now() milliseconds). */
  samples: RefObject<Sample[]>;
}

let checkerPromise: Promise<FaceChecker> | null = null;

/** The checker, loaded once per page (its chunk, ONNX Runtime's WebAssembly and the model file). */
function loadChecker(config: FaceCheckConfig): Promise<FaceChecker> {
  if (!checkerPromise) {
    checkerPromise = import("./detector")
      .then((m) => m.FaceChecker.create(config))
      .catch((e) => {
        checkerPromise = null;
        throw e;
      });
  }
  return checkerPromise;
}

function verdict(result: FaceCheckResult): CheckState {
  if (!result.primary) return "no_face";
  return result.primary.reason ?? "ok";
}

/**
 * While `active`, checks the frames `video` shows, one after another (never two at once, at most every 200 ms), and
 * reports the latest verdict. Nothing is loaded until the first time it becomes active.
 */
export function useFaceCheck(video: RefObject<HTMLVideoElement | null>, config: FaceCheckConfig | null | undefined, active: boolean): FaceCheck {
  const [state, setState] = useState<CheckState>("loading");
  const [face, setFace] = useState<CheckedFace | null>(null);
  const [faces, setFaces] = useState(0);
  const [frame, setFrame] = useState<FaceCheck["frame"]>(null);
  const samples = useRef<Sample[]>([]);

  useEffect(() => {
    if (!active || !config) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async () => {
      let checker: FaceChecker;
      try {
        checker = await loadChecker(config);
      } catch (e) {
        console.warn("The face check could not start:", e);
        if (!stopped) setState("unavailable");
        return;
      }
      const loop = async () => {
        if (stopped) return;
        const started = performance.now();
        const v = video.current;
        if (v && v.readyState >= 2 && v.videoWidth > 0) {
          try {
            const result = await checker.check(v, v.videoWidth, v.videoHeight);
            if (stopped) return;
            performance.measure?.("face-check", { start: started, duration: result.ms });
            const now = verdict(result);
            samples.current.push({ t: started, readable: now === "ok" });
            setState(now);
            setFace(result.primary);
            setFaces(result.faces);
            setFrame({ width: result.width, height: result.height });
          } catch (e) {
            console.warn("The face check stopped:", e);
            if (!stopped) setState("unavailable");
            return;
          }
        }
        timer = setTimeout(loop, Math.max(0, MIN_INTERVAL_MS - (performance.now() - started)));
      };
      await loop();
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [active, config, video]);

  return { state, face, faces, frame, samples };
}
