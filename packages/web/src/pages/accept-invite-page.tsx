import type { FormEvent } from 'react';
import { acceptInvitation, type Session } from '../auth.ts';
import {
  ErrorSummary,
  isSpentLink,
  NewPasswordField,
  SubmitButton,
  TextField,
  textOf,
  useFormSubmission,
} from '../form.tsx';
import { Page, useArrivalFocus } from '../layout.tsx';
import { Link } from '../router.tsx';
import { checkNewPassword, checkRequired, collect } from '../validation.ts';

const FORM = 'accept';
const LABELS = { name: 'Your name', password: 'Password' } as const;
const FIELDS = Object.keys(LABELS);

export interface AcceptInvitePageProps {
  token: string | null;
  onSignedIn(session: Session): void;
}

export function AcceptInvitePage({ token, onSignedIn }: AcceptInvitePageProps) {
  const headingRef = useArrivalFocus<HTMLHeadingElement>();
  return (
    <Page title="Accept invitation">
      <section className="card" aria-labelledby="accept-title">
        <h2 id="accept-title" ref={headingRef} tabIndex={-1}>
          Accept invitation
        </h2>
        {token ? (
          <AcceptForm token={token} onSignedIn={onSignedIn} />
        ) : (
          <div className="missing-token">
            <p>
              This page needs the invitation link from your invitation. That link ends in{' '}
              <code>/accept-invite?token=wm_inv_…</code>; open it exactly as you received it, or ask
              the person who invited you for a new one.
            </p>
            <p>
              Already have an account? <Link href="/login">Sign in</Link>.
            </p>
          </div>
        )}
      </section>
    </Page>
  );
}

function AcceptForm({ token, onSignedIn }: { token: string; onSignedIn(session: Session): void }) {
  const { failure, sending, submit } = useFormSubmission(FIELDS);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const input = {
      token,
      name: textOf(data, 'name').trim(),
      password: textOf(data, 'password'),
    };

    await submit(
      collect({
        name: checkRequired(input.name, 'Enter your name.'),
        password: checkNewPassword(input.password),
      }),
      async () => {
        onSignedIn(await acceptInvitation(input));
      },
    );
  }

  return (
    <>
      <p className="card-lede">
        You have been invited to a Waymark workspace. Choose how your name appears to your team and
        a password to sign in with.
      </p>
      <form className="form" noValidate onSubmit={handleSubmit}>
        {failure && (
          <ErrorSummary form={FORM} failure={failure} labels={LABELS}>
            {isSpentLink(failure) && (
              <p>
                If you have already accepted this invitation, <Link href="/login">sign in</Link>{' '}
                instead.
              </p>
            )}
          </ErrorSummary>
        )}
        <TextField
          form={FORM}
          name="name"
          label={LABELS.name}
          autoComplete="name"
          error={failure?.fields.name}
        />
        <NewPasswordField form={FORM} label={LABELS.password} error={failure?.fields.password} />
        <SubmitButton sending={sending} label="Accept and sign in" sendingLabel="Signing in…" />
      </form>
    </>
  );
}
