import type { Observation } from "../../domain/observations";
import { Disclaimer } from "../Disclaimer";

export function Observations({ items }: { items: Observation[] }) {
  return (
    <section className="panel observations-panel" aria-labelledby="obs-title">
      <h2 id="obs-title">Observations</h2>
      <p className="muted small">What the model observed in this video — not a judgement about the person.</p>
      <ul className="observations" data-testid="observations">
        {items.map((o) => (
          <li key={o.key} className="observation">
            <div className="observation__head">
              <span className="observation__title">{o.title}</span>
              <span className="observation__value">{o.value}</span>
            </div>
            <p>{o.text}</p>
          </li>
        ))}
      </ul>
      <Disclaimer />
    </section>
  );
}
