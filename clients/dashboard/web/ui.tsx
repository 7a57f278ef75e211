/** Small presentational pieces shared by the panels. */
import type { ReactNode } from "react";

const TONES: Record<string, string> = {
  RUNNING: "ok",
  SUCCEEDED: "ok",
  ONLINE: "ok",
  QUEUED: "busy",
  PENDING: "busy",
  PROVISIONING: "busy",
  DEPLOYING: "busy",
  STOPPING: "busy",
  FAILED: "bad",
  CANCELLED: "bad",
  OFFLINE: "bad",
};

/** A status as text (never colour alone), tinted by what it means. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge badge-${TONES[status] ?? "idle"}`}>
      {label ? <span className="visually-hidden">{label}: </span> : null}
      {status}
    </span>
  );
}

/** A card's heading with its status beside it; the heading names the card (aria-labelledby). */
export function CardHead({ id, title, status, statusLabel }: { id: string; title: string; status: string; statusLabel: string }) {
  return (
    <div className="card-head">
      <h3 id={id}>{title}</h3>
      <StatusBadge status={status} label={statusLabel} />
    </div>
  );
}

/** A progress bar people and assistive technology read alike: role, name and aria-valuenow in per cent. */
export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div className="progress-row">
      <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={`${percent} %`}>
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-text" aria-hidden="true">
        {percent} %
      </span>
    </div>
  );
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <>{value}</>;
  return (
    <time dateTime={value} title={date.toLocaleString()}>
      {date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}
    </time>
  );
}

export function ErrorNote({ children }: { children: ReactNode }) {
  return (
    <p className="error-note" role="alert">
      {children}
    </p>
  );
}
