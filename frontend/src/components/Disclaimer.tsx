import { Link } from "react-router-dom";

/** The "not a diagnosis" notice shown wherever results or their meaning are discussed. */
export function Disclaimer({ compact = false }: { compact?: boolean }) {
  return (
    <aside className={`disclaimer${compact ? " disclaimer--compact" : ""}`} aria-label="Important notice" data-testid="disclaimer">
      <p>
        <strong>Bloomwell is not a diagnosis.</strong> It describes facial expressions a computer model saw in one short
        video; expressions don't reliably show how someone feels, and the model makes mistakes.
      </p>
      {!compact && (
        <p>
          If you are struggling, please talk to a doctor or another health professional. If you are in danger or thinking
          about harming yourself, contact your local emergency number or a crisis line now.{" "}
          <Link to="/about#support">Where to find help</Link>
        </p>
      )}
    </aside>
  );
}
