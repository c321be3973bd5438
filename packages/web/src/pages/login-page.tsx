import type { FormEvent } from 'react';
import type { ApiProblem } from '../api.ts';
import { login, type Session } from '../auth.ts';
import { ErrorSummary, SubmitButton, TextField, textOf, useFormSubmission } from '../form.tsx';
import { Page, useArrivalFocus } from '../layout.tsx';
import { checkEmail, checkRequired, collect } from '../validation.ts';

const FORM = 'login';
const LABELS = { email: 'Email', password: 'Password' } as const;
const FIELDS = Object.keys(LABELS);

/** "Try again in 15 minutes, at 14:45." from a Retry-After time. */
export function retryMessage(retryAt: Date, now: number = Date.now()): string {
  const minutes = Math.max(1, Math.ceil((retryAt.getTime() - now) / 60_000));
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' }).format(
    minutes,
    'minute',
  );
  const sameDay = new Date(now).toDateString() === retryAt.toDateString();
  const clock = new Intl.DateTimeFormat(undefined, {
    ...(sameDay ? {} : { dateStyle: 'medium' }),
    timeStyle: 'short',
  }).format(retryAt);
  return `Try again ${relative}, at ${clock}.`;
}

function loginMessage(problem: ApiProblem): string | undefined {
  if (problem.status === 401) return 'The email or password is wrong.';
  if (problem.status === 429) {
    const when = problem.retryAt ? retryMessage(problem.retryAt) : 'Try again later.';
    return `Sign-in is locked for this email after too many wrong passwords. ${when}`;
  }
  return undefined;
}

export interface LoginPageProps {
  onSignedIn(session: Session): void;
  /** A message to show above the form, such as "You have signed out." */
  notice?: string | undefined;
}

export function LoginPage({ onSignedIn, notice }: LoginPageProps) {
  const { failure, sending, submit } = useFormSubmission(FIELDS, loginMessage);
  const headingRef = useArrivalFocus<HTMLHeadingElement>();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const email = textOf(data, 'email').trim();
    const password = textOf(data, 'password');

    await submit(
      collect({
        email: checkEmail(email),
        password: checkRequired(password, 'Enter your password.'),
      }),
      async () => {
        onSignedIn(await login({ email, password }));
      },
    );
  }

  return (
    <Page title="Sign in">
      <section className="card" aria-labelledby="login-title">
        <h2 id="login-title" ref={headingRef} tabIndex={-1}>
          Sign in
        </h2>
        {notice !== undefined && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form className="form" noValidate onSubmit={handleSubmit}>
          {failure && <ErrorSummary form={FORM} failure={failure} labels={LABELS} />}
          <TextField
            form={FORM}
            name="email"
            label={LABELS.email}
            type="email"
            autoComplete="email"
            error={failure?.fields.email}
          />
          <TextField
            form={FORM}
            name="password"
            label={LABELS.password}
            type="password"
            autoComplete="current-password"
            error={failure?.fields.password}
          />
          <SubmitButton sending={sending} label="Sign in" sendingLabel="Signing in…" />
        </form>
        <p className="card-footer">
          New to a Waymark workspace? Ask one of its admins for an invitation.
        </p>
      </section>
    </Page>
  );
}
