import type { ReactNode } from "react";

type Tone = "error" | "info" | "success" | "warning";

/** An inline message. Errors are announced to screen readers right away. */
export function Alert({ tone = "info", title, children, testId }: { tone?: Tone; title?: string; children?: ReactNode; testId?: string }) {
  return (
    <div className={`alert alert--${tone}`} role={tone === "error" ? "alert" : "status"} data-testid={testId}>
      {title && <p className="alert__title">{title}</p>}
      {children && <div className="alert__body">{children}</div>}
    </div>
  );
}
