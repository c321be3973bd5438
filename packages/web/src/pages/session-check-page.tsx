import { describeProblem } from '../api.ts';
import { Page } from '../layout.tsx';

export interface SessionCheckPageProps {
  /** Null while checking; the error when the check itself failed (not a plain "signed out"). */
  error: unknown;
  onRetry(): void;
}

/** Shown at `/` while Waymark finds out whether you are signed in, or when it could not tell. */
export function SessionCheckPage({ error, onRetry }: SessionCheckPageProps) {
  if (error === null) {
    return (
      <Page busy>
        <p className="lede" role="status">
          Checking your session…
        </p>
      </Page>
    );
  }
  return (
    <Page title="Not available">
      <section className="card" aria-labelledby="session-error-title">
        <h2 id="session-error-title">Waymark is not available right now</h2>
        <p className="alert" role="alert">
          {describeProblem(error)}
        </p>
        <button className="button button-primary" type="button" onClick={onRetry}>
          Try again
        </button>
      </section>
    </Page>
  );
}
