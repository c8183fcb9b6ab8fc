/** The people of a result, in the order the report shows them: by first appearance, then the larger face. */
import type { AnalysisResult, Person } from "../api/types";

export interface ShownPerson {
  person: Person;
  /** "Person 1", "Person 2", … in the shown order. */
  label: string;
  primary: boolean;
}

/** Whether a person's expression could be read (only they have a report to pick). */
export function isReadable(person: Person): boolean {
  return person.indicators !== null;
}

/**
 * Orders the given people as the report shows them: by first appearance (the worker has already merged one person's
 * tracks across shot cuts), then the larger face, and numbers them in that order. Pass the people who are shown, so
 * the numbers have no holes.
 */
export function orderPeople(result: Pick<AnalysisResult, "people" | "primary_track_id">): ShownPerson[] {
  const sorted = [...result.people].sort(
    (a, b) => a.first_t - b.first_t || b.mean_face_px - a.mean_face_px || a.track_id - b.track_id,
  );
  return sorted.map((person, i) => ({ person, label: `Person ${i + 1}`, primary: person.track_id === result.primary_track_id }));
}

/** The person shown first: the primary one (the one read longest), else the first in order; null without people. */
export function defaultPerson(shown: ShownPerson[]): ShownPerson | null {
  return shown.find((p) => p.primary) ?? shown[0] ?? null;
}
