/**
 * The API's shapes. Everything the gateway describes comes from `generated.ts` (openapi-typescript over the
 * gateway's OpenAPI schema, `make api-types`); only what the schema cannot carry is written here: the auth
 * service's bodies (a separate service) and the push events (sent over SSE, outside the schema).
 */
import type { components } from "./generated";

type Schemas = components["schemas"];

export type PublicConfig = Schemas["PublicConfig"];
export type FaceCheckConfig = Schemas["FaceCheckConfig"];
export type AnalysisStatus = Schemas["AnalysisStatus"];
export type Analysis = Schemas["AnalysisOut"];
/** A history row: an analysis plus its primary person's thumbnail path and negative share (once succeeded). */
export type HistoryItem = Schemas["AnalysisListItem"];
export type AnalysisPage = Schemas["AnalysisPage"];
export type AnalysisResult = Schemas["ResultDocument"];
export type Summary = Schemas["Summary"];
export type Indicators = Schemas["Indicators"];
export type Person = Schemas["Person"];
export type Segment = Schemas["Segment"];
export type TimelinePoint = Schemas["TimelinePoint"];
export type FrameResult = Schemas["FrameResult"];
export type FaceResult = Schemas["FaceResult"];
export type UnassessableReason = Schemas["UnassessableReason"];
export type Stage = Schemas["Stage"];
export type ErrorCode = Schemas["ErrorCode"];
export type Emotion = Schemas["Emotion"];
/** Label → probability (keys in the model's label order). */
export type Probabilities = Record<string, number>;

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

/** services/common/events.ProgressEvent, as relayed over SSE. */
export interface ProgressEvent {
  analysis_id: string;
  status: AnalysisStatus;
  progress: number;
  stage: Stage | null;
  error: string | null;
  error_code: ErrorCode | null;
  /** Seconds the job is expected to take once a worker runs it, from the workers' measured speed; null when unknown. */
  expected_s?: number | null;
  ts?: string;
}

export function isTerminal(status: AnalysisStatus): boolean {
  return status === "succeeded" || status === "failed";
}
