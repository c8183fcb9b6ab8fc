export function ProgressBar({ value, label, testId }: { value: number | null; label: string; testId?: string }) {
  const pct = value == null ? null : Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div className="progress">
      <div className="progress__head">
        <span>{label}</span>
        {pct != null && <span className="progress__pct">{pct}%</span>}
      </div>
      <div
        className={`progress__track${pct == null ? " progress__track--indeterminate" : ""}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? undefined}
        data-testid={testId}
      >
        <div className="progress__bar" style={pct == null ? undefined : { width: `${pct}%` }} />
      </div>
    </div>
  );
}
