import type { Emotion } from "../lib/emotions";

export type Probabilities = Record<Emotion, number>;

export interface User {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  created_at: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export interface PublicConfig {
  max_upload_bytes: number;
  max_duration_s: number;
  min_record_s: number;
  max_record_s: number;
  accepted_extensions: string[];
  accepted_mime_types: string[];
  default_sample_fps: number;
}

export type AnalysisStatus = "queued" | "processing" | "succeeded" | "failed";

export interface Analysis {
  id: string;
  status: AnalysisStatus;
  progress: number;
  stage: string | null;
  error: string | null;
  error_code: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  filename: string | null;
  dominant_emotion: string | null;
}

export interface AnalysisPage {
  items: Analysis[];
  next_cursor: string | null;
}

export interface ProgressEvent {
  analysis_id: string;
  status: AnalysisStatus;
  progress: number;
  stage: string | null;
  error: string | null;
  error_code: string | null;
  ts?: string;
}

export interface FaceResult {
  box: [number, number, number, number];
  emotion: string;
  probabilities: Probabilities;
  crop: string | null;
}

export interface FrameResult {
  t: number;
  faces: FaceResult[];
}

export interface Indicators {
  observed_s: number;
  negative_share: number;
  sustained_negative_affect: boolean;
  sustained_negative_s: number;
  longest_negative_run_s: number;
  expression_changes: number;
  expression_variability: number;
  /** Only for at least 60 s of assessable video; null otherwise. */
  emotion_changes_per_min: number | null;
}

export interface Summary {
  dominant_emotion: string | null;
  distribution: Probabilities;
  mean_probabilities: Probabilities;
  frames_analyzed: number;
  frames_with_face: number;
  duration_s: number;
  sample_fps: number;
  model: { name: string; version: string };
  indicators: Indicators | null;
}

export interface AnalysisResult {
  summary: Summary;
  frames: FrameResult[];
}

export function isTerminal(status: AnalysisStatus): boolean {
  return status === "succeeded" || status === "failed";
}
