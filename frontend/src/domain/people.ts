/** The people of a result, in the order the report shows them: seen longest first, then the larger face. */
import type { AnalysisResult, Person } from "../api/types";

export interface ShownPerson {
  person: Person;
  /** "Person 1", "Person 2", … in the shown order. */
  label: string;
  primary: boolean;
}

/**
 * Orders the result's people for the picker: longest assessable (then longest seen, then largest face) first, and
 * numbers them in that order. The primary person (the one the summary describes) comes first when tied.
 */
export function orderPeople(result: Pick<AnalysisResult, "people" | "primary_track_id">): ShownPerson[] {
  const sorted = [...result.people].sort(
    (a, b) =>
      b.assessable_frames - a.assessable_frames ||
      b.frames_with_face - a.frames_with_face ||
      b.mean_face_px - a.mean_face_px ||
      Number(b.track_id === result.primary_track_id) - Number(a.track_id === result.primary_track_id) ||
      a.track_id - b.track_id,
  );
  return sorted.map((person, i) => ({ person, label: `Person ${i + 1}`, primary: person.track_id === result.primary_track_id }));
}

/** The person shown first: the primary one, else the first in order; null for a result without people. */
export function defaultPerson(shown: ShownPerson[]): ShownPerson | null {
  return shown.find((p) => p.primary) ?? shown[0] ?? null;
}
