import { describe, expect, it } from "vitest";
import { MULTI_RESULT, RESULT } from "../test/fixtures";
import { defaultPerson, isReadable, orderPeople } from "./people";

describe("orderPeople", () => {
  it("orders people by first appearance and numbers them in that order; the primary one is shown first", () => {
    const shown = orderPeople(MULTI_RESULT);
    expect(shown.map((p) => [p.person.track_id, p.label, p.primary])).toEqual([
      [1, "Person 1", true],
      [2, "Person 2", false],
      [3, "Person 3", false],
    ]);
    expect(defaultPerson(shown)?.person.track_id).toBe(1);
    const later = { ...MULTI_RESULT.people[1], track_id: 5, first_t: 7 }; // read longest, but seen last
    const early = { ...MULTI_RESULT.people[0], track_id: 6, first_t: 0.2 };
    const both = orderPeople({ people: [later, early], primary_track_id: 5 });
    expect(both.map((p) => [p.person.track_id, p.label])).toEqual([[6, "Person 1"], [5, "Person 2"]]);
    expect(defaultPerson(both)?.label).toBe("Person 2");
  });

  it("numbers only the people it is given (the readable ones), without holes", () => {
    const readable = MULTI_RESULT.people.filter(isReadable);
    expect(readable.map((p) => p.track_id).sort()).toEqual([1, 2]);
    expect(orderPeople({ people: readable, primary_track_id: 1 }).map((p) => p.label)).toEqual(["Person 1", "Person 2"]);
  });

  it("breaks ties by face size and handles one or no person", () => {
    const a = { ...MULTI_RESULT.people[0], track_id: 7, mean_face_px: 10, first_t: 1 };
    const b = { ...a, track_id: 8, mean_face_px: 30 };
    expect(orderPeople({ people: [a, b], primary_track_id: 7 }).map((p) => p.person.track_id)).toEqual([8, 7]);
    expect(orderPeople(RESULT)).toHaveLength(1);
    expect(defaultPerson(orderPeople({ people: [], primary_track_id: null }))).toBeNull();
  });
});
