/**
 * The seven expression labels: order, names, colours and line patterns. Owns these for the whole web app and
 * imports nothing from api/ (the API types refer to labels as plain strings).
 */

/** The model's label order, fixed across the whole system (bloomwell_ml.labels.EMOTIONS). */
export const EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"] as const;
export type Emotion = (typeof EMOTIONS)[number];

/** Label → value, in the model's order. */
export type EmotionValues = Record<Emotion, number>;

export const NEGATIVE_EMOTIONS: readonly Emotion[] = ["angry", "disgust", "fear", "sad"];

export const EMOTION_LABELS: Record<Emotion, string> = {
  angry: "Angry",
  disgust: "Disgust",
  fear: "Fear",
  happy: "Happy",
  neutral: "Neutral",
  sad: "Sad",
  surprise: "Surprise",
};

/** Adjectives for sentences ("happy moments", "mostly neutral"). */
export const EMOTION_WORDS: Record<Emotion, string> = {
  angry: "angry",
  disgust: "disgusted",
  fear: "fearful",
  happy: "happy",
  neutral: "neutral",
  sad: "sad",
  surprise: "surprised",
};

/**
 * One colour per label. Every colour has at least 3:1 contrast against the page and card backgrounds, and any two
 * stay apart (CIELAB ΔE ≥ 15) in protanopia and deuteranopia simulations (checked in contrast.test.ts). Colour is
 * never the only cue: bands carry their label, lines their own dash pattern.
 */
export const EMOTION_COLORS: Record<Emotion, string> = {
  angry: "#ff3e40",
  disgust: "#459944",
  fear: "#7a45ff",
  happy: "#895800",
  neutral: "#687891",
  sad: "#2640bf",
  surprise: "#bb115a",
};

/** SVG stroke-dasharray per label, so the probability lines can be told apart without colour. */
export const EMOTION_DASHES: Record<Emotion, string | undefined> = {
  angry: undefined,
  disgust: "8 3",
  fear: "2 3",
  happy: "12 3 2 3",
  neutral: "4 4",
  sad: "1 2",
  surprise: "10 3 2 3 2 3",
};

/** The page and card backgrounds the colours are checked against (styles.css --bg and --surface). */
export const BACKGROUNDS = ["#faf8f4", "#ffffff"] as const;

export function isEmotion(value: unknown): value is Emotion {
  return typeof value === "string" && (EMOTIONS as readonly string[]).includes(value);
}

/** "happy" → "Happy"; an unknown label capitalised; nothing → "—". */
export function emotionLabel(value: string | null | undefined): string {
  if (!value) return "—";
  return isEmotion(value) ? EMOTION_LABELS[value] : value.charAt(0).toUpperCase() + value.slice(1);
}

/** "happy" → "happy", "fear" → "fearful": the label as an adjective, lower case. */
export function emotionWord(value: string | null | undefined): string {
  if (!value) return "";
  return isEmotion(value) ? EMOTION_WORDS[value] : value.toLowerCase();
}

export function emotionColor(value: string | null | undefined): string {
  return isEmotion(value) ? EMOTION_COLORS[value] : "#687891";
}

export function isNegative(value: string | null | undefined): boolean {
  return isEmotion(value) && NEGATIVE_EMOTIONS.includes(value);
}
