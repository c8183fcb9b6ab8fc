import type { Analysis, AnalysisResult } from "../api/types";

const p = (over: Record<string, number>) => ({ angry: 0.01, disgust: 0.01, fear: 0.02, happy: 0.1, neutral: 0.8, sad: 0.04, surprise: 0.02, ...over });

export const RESULT: AnalysisResult = {
  summary: {
    dominant_emotion: "happy",
    distribution: { angry: 0, disgust: 0, fear: 0, happy: 0.6, neutral: 0.3, sad: 0.1, surprise: 0 },
    mean_probabilities: p({ happy: 0.55, neutral: 0.3 }),
    frames_analyzed: 4,
    frames_with_face: 3,
    duration_s: 0.8,
    sample_fps: 5,
    model: { name: "bloomwell-convnext", version: "1.2.0" },
    indicators: {
      negative_share: 0.1,
      sustained_negative_affect: false,
      longest_negative_run_s: 0.2,
      expression_variability: 0.3,
      emotion_changes_per_min: null,
      expression_changes: 2,
      observed_s: 0.6,
      sustained_negative_s: 3,
    },
  },
  frames: [
    { t: 0, faces: [{ box: [10, 10, 80, 80], emotion: "happy", probabilities: p({ happy: 0.9, neutral: 0.05 }), crop: "0_0.jpg" }] },
    { t: 0.2, faces: [{ box: [10, 10, 80, 80], emotion: "neutral", probabilities: p({}), crop: "1_0.jpg" }] },
    { t: 0.4, faces: [] },
    { t: 0.6, faces: [{ box: [10, 10, 80, 80], emotion: "sad", probabilities: p({ sad: 0.7, neutral: 0.1 }), crop: null }] },
  ],
};

export function analysis(over: Partial<Analysis> = {}): Analysis {
  return {
    id: "a1",
    status: "succeeded",
    progress: 1,
    stage: null,
    error: null,
    error_code: null,
    created_at: "2026-11-24T10:00:00Z",
    started_at: "2026-11-24T10:00:01Z",
    finished_at: "2026-11-24T10:00:09Z",
    filename: "fer_woman2.mp4",
    dominant_emotion: "happy",
    ...over,
  };
}
