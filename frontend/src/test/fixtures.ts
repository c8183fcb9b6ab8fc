import type { AnalysisResult, Emotion, HistoryItem, Person } from "../api/types";

const p = (over: Record<string, number>) => ({ angry: 0.01, disgust: 0.01, fear: 0.02, happy: 0.1, neutral: 0.8, sad: 0.04, surprise: 0.02, ...over });
const zero = { angry: 0, disgust: 0, fear: 0, happy: 0, neutral: 0, sad: 0, surprise: 0 };
const quality = { face_px: 80, sharpness: 120, brightness: 110, contrast: 40, yaw_deg: 3, roll_deg: 1 };

/** Person 1 of the fixture: 12 s, mostly neutral with two happy moments and a turned-away gap. */
export const PERSON_A: Person = {
  track_id: 1,
  label: "Person 1",
  first_t: 0,
  last_t: 11.8,
  frames_with_face: 60,
  assessable_frames: 55,
  seen_s: 12,
  readable_s: 11,
  mean_face_px: 90,
  dominant_emotion: "neutral",
  distribution: { ...zero, neutral: 0.7, happy: 0.25, sad: 0.05 },
  mean_probabilities: p({ neutral: 0.6, happy: 0.25 }),
  indicators: {
    observed_s: 11,
    negative_share: 0.05,
    sustained_negative_affect: false,
    sustained_negative_s: 3,
    longest_negative_run_s: 0.6,
    expression_changes: 5,
    expression_variability: 0.41,
    emotion_changes_per_min: null,
  },
  unassessable: { turned_away: 5 },
  crop: "p1.jpg",
  timeline: [
    { t: 0, emotion: "neutral", probabilities: p({}) },
    { t: 4, emotion: "happy", probabilities: p({ happy: 0.7, neutral: 0.2 }) },
    { t: 11, emotion: "happy", probabilities: p({ happy: 0.6, neutral: 0.3 }) },
  ],
  segments: [
    { start_t: 0, end_t: 3.4, emotion: "neutral", gap_reason: null, unclear: false },
    { start_t: 3.4, end_t: 4.6, emotion: "happy", gap_reason: null, unclear: false },
    { start_t: 4.6, end_t: 6, emotion: "neutral", gap_reason: null, unclear: false },
    { start_t: 6, end_t: 7, emotion: null, gap_reason: "turned_away", unclear: false },
    { start_t: 7, end_t: 8, emotion: "sad", gap_reason: null, unclear: false },
    { start_t: 8, end_t: 10.4, emotion: "neutral", gap_reason: null, unclear: false },
    { start_t: 10.4, end_t: 11.6, emotion: "happy", gap_reason: null, unclear: false },
    { start_t: 11.6, end_t: 12, emotion: "neutral", gap_reason: null, unclear: false },
  ],
};

/** Person 2: seen briefly, surprised. */
export const PERSON_B: Person = {
  track_id: 2,
  label: "Person 2",
  first_t: 2,
  last_t: 4,
  frames_with_face: 10,
  assessable_frames: 10,
  seen_s: 2,
  readable_s: 2,
  mean_face_px: 40,
  dominant_emotion: "surprise",
  distribution: { ...zero, surprise: 1 },
  mean_probabilities: p({ surprise: 0.7, neutral: 0.1 }),
  indicators: {
    observed_s: 2,
    negative_share: 0,
    sustained_negative_affect: false,
    sustained_negative_s: 3,
    longest_negative_run_s: 0,
    expression_changes: 0,
    expression_variability: 0,
    emotion_changes_per_min: null,
  },
  unassessable: {},
  crop: "p2.jpg",
  timeline: [{ t: 2, emotion: "surprise", probabilities: p({ surprise: 0.7, neutral: 0.1 }) }],
  segments: [{ start_t: 2, end_t: 4.2, emotion: "surprise", gap_reason: null, unclear: false }],
};

/** Person 3: never readable (too dark). */
export const PERSON_C: Person = {
  ...PERSON_B,
  track_id: 3,
  label: "Person 3",
  assessable_frames: 0,
  readable_s: 0,
  dominant_emotion: null,
  distribution: zero,
  indicators: null,
  unassessable: { too_dark: 10 },
  crop: null,
  timeline: [],
  segments: [{ start_t: 5, end_t: 7, emotion: null, gap_reason: "too_dark", unclear: false }],
};

const face = (track: number, emotion: Emotion, crop: string | null, assessable = true) => ({
  track_id: track,
  box: [10, 10, 80, 80] as [number, number, number, number],
  emotion: assessable ? emotion : null,
  probabilities: p({ neutral: 0.2, [emotion]: 0.7 }),
  crop: assessable ? crop : null,
  quality: assessable ? quality : { ...quality, brightness: 9 },
  assessable,
  unassessable_reason: assessable ? null : ("too_dark" as const),
});

export const RESULT: AnalysisResult = {
  schema_version: 2,
  upgraded_from: null,
  primary_track_id: 1,
  people: [PERSON_A],
  summary: {
    dominant_emotion: "neutral",
    distribution: PERSON_A.distribution,
    mean_probabilities: PERSON_A.mean_probabilities,
    frames_analyzed: 60,
    frames_with_face: 60,
    assessable_frames: 55,
    people_count: 1,
    primary_track_id: 1,
    duration_s: 12,
    sample_fps: 5,
    smoothing: "hmm (sticky transitions)",
    unclear_below: 0.4,
    model: { name: "bloomwell-convnext", version: "1.2.0", temperature: 1, detector: "yunet" },
    indicators: PERSON_A.indicators,
  },
  frames: [
    { t: 0, span_s: 0.2, faces: [face(1, "neutral", "0_0.jpg")] },
    { t: 4, span_s: 0.2, faces: [face(1, "happy", "20_0.jpg"), face(2, "surprise", "20_1.jpg")] },
    { t: 6.4, span_s: 0.2, faces: [face(1, "angry", "32_0.jpg", false)] }, // too dark to read: the worker stores no label and no crop
  ],
};

/** The same video with three people: the picker shows the two readable ones. */
export const MULTI_RESULT: AnalysisResult = {
  ...RESULT,
  people: [PERSON_B, PERSON_A, PERSON_C],
  summary: { ...RESULT.summary, people_count: 3 },
};

/** An analysis as the list returns it (a single `GET` returns the same without the two list-only fields). */
export function analysis(over: Partial<HistoryItem> = {}): HistoryItem {
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
    duration_s: 12,
    sample_fps: 5,
    keep_video: false,
    dominant_emotion: "happy",
    ...over,
  };
}
