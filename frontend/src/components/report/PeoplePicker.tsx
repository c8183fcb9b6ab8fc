import type { FrameResult } from "../../api/types";
import { personThumbnail } from "../../domain/frames";
import type { ShownPerson } from "../../domain/people";
import { emotionWord } from "../../domain/emotions";
import { dominantUnclear } from "../../domain/summary";
import { seconds } from "../../domain/words";
import { useCropUrl } from "./useCropUrl";

function PersonOption({ analysisId, shown, frames, selected, onSelect }: { analysisId: string; shown: ShownPerson; frames: readonly FrameResult[]; selected: boolean; onSelect: () => void }) {
  // the same picture the face section falls back to: a readable face, never an unread one
  const url = useCropUrl(analysisId, personThumbnail(shown.person, frames));
  const { person } = shown;
  // the document's own figure (the same one the summary and the exports show), never recomputed here
  const seen = seconds(person.seen_s);
  return (
    <li>
      <button type="button" className={`person${selected ? " person--selected" : ""}`} aria-pressed={selected} onClick={onSelect} data-testid="person-option" data-track={person.track_id}>
        {url ? (
          <img className="person__face" src={url} alt="" width={56} height={56} />
        ) : (
          <span className="person__face person__face--empty" aria-hidden="true" />
        )}
        <span className="person__text">
          <span className="person__label">{shown.label}</span>
          <span className="person__meta">
            {person.dominant_emotion ? (dominantUnclear(person) ? "mostly unclear" : `mostly ${emotionWord(person.dominant_emotion)}`) : "not readable"} · seen {seen}
          </span>
        </span>
      </button>
    </li>
  );
}

/** "We saw N people": one labelled face per person; choosing one switches the whole report to them. */
export function PeoplePicker({ analysisId, people, frames, selected, onSelect, unreadable = 0 }: { analysisId: string; people: ShownPerson[]; frames: readonly FrameResult[]; selected: number; onSelect: (trackId: number) => void; unreadable?: number }) {
  const primary = people.find((p) => p.primary) ?? people[0];
  return (
    <section className="panel people" aria-labelledby="people-title" data-testid="people-picker">
      <h2 id="people-title">We saw {people.length} people in this video</h2>
      <p className="muted small">
        Choose whose report to see (numbered in the order they appear); {primary?.label ?? "Person 1"} was read the longest.
        {unreadable > 0 && ` ${unreadable === 1 ? "One more face was" : `${unreadable} more faces were`} too brief or unclear to read.`}
      </p>
      <ul className="people__list">
        {people.map((p) => (
          <PersonOption key={p.person.track_id} analysisId={analysisId} shown={p} frames={frames} selected={p.person.track_id === selected} onSelect={() => onSelect(p.person.track_id)} />
        ))}
      </ul>
    </section>
  );
}
