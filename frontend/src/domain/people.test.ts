import { describe, expect, it } from "vitest";
import { MULTI_RESULT, RESULT } from "../test/fixtures";
import { defaultPerson, orderPeople } from "./people";

describe("orderPeople", () => {
  it("puts the person seen longest first and numbers people in that order", () => {
    const shown = orderPeople(MULTI_RESULT);
    expect(shown.map((p) => [p.person.track_id, p.label, p.primary])).toEqual([
      [1, "Person 1", true],
      [2, "Person 2", false],
      [3, "Person 3", false],
    ]);
    expect(defaultPerson(shown)?.person.track_id).toBe(1);
  });

  it("breaks ties by face size and handles one or no person", () => {
    const a = { ...MULTI_RESULT.people[0], track_id: 7, mean_face_px: 10, assessable_frames: 5, frames_with_face: 5 };
    const b = { ...a, track_id: 8, mean_face_px: 30 };
    expect(orderPeople({ people: [a, b], primary_track_id: 7 }).map((p) => p.person.track_id)).toEqual([8, 7]);
    expect(orderPeople(RESULT)).toHaveLength(1);
    expect(defaultPerson(orderPeople({ people: [], primary_track_id: null }))).toBeNull();
  });
});
