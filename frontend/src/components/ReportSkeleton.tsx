import "./ReportSkeleton.css";

/**
 * The report's shape while it loads: grey blocks where the summary, the band and the two lower panels will be, and
 * at least a screen tall, so nothing below (the footer) moves when the report replaces it (no layout shift).
 * `withHead` adds the page heading's place, for the moments before the analysis record has arrived.
 */
export function ReportSkeleton({ label = "Loading your report…", withHead = false }: { label?: string; withHead?: boolean }) {
  return (
    <div className={`report-skeleton${withHead ? " container page" : ""}`} data-testid="report-skeleton">
      <span className="sr-only" role="status">
        {label}
      </span>
      {withHead && (
        <div className="report-skeleton__head" aria-hidden="true">
          <span className="sk sk--line sk--short" />
          <span className="sk sk--title" />
          <span className="sk sk--line sk--short" />
        </div>
      )}
      <div className="panel report-skeleton__summary" aria-hidden="true">
        <span className="sk sk--heading" />
        <span className="sk sk--text" />
        <span className="sk sk--text sk--short" />
        <div className="report-skeleton__figures">
          <span className="sk sk--figure" />
          <span className="sk sk--figure" />
          <span className="sk sk--figure" />
        </div>
      </div>
      <div className="panel report-skeleton__timeline" aria-hidden="true">
        <span className="sk sk--heading" />
        <span className="sk sk--band" />
      </div>
      <div className="two-col two-col--result" aria-hidden="true">
        <div className="panel report-skeleton__half" />
        <div className="panel report-skeleton__half" />
      </div>
    </div>
  );
}
