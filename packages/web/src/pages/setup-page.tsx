import { type FormEvent, useMemo } from 'react';
import { type Session, setUpWorkspace } from '../auth.ts';
import {
  ErrorSummary,
  isSpentLink,
  NewPasswordField,
  SelectField,
  SubmitButton,
  TextField,
  textOf,
  useFormSubmission,
} from '../form.tsx';
import { Page, useArrivalFocus } from '../layout.tsx';
import { Link } from '../router.tsx';
import { checkEmail, checkNewPassword, checkRequired, collect } from '../validation.ts';

const FORM = 'setup';
const LABELS = {
  workspaceName: 'Workspace name',
  timeZone: 'Time zone',
  name: 'Your name',
  email: 'Your email',
  password: 'Password',
} as const;
const FIELDS = Object.keys(LABELS);

/** The browser's time zone, or UTC when it has none (some locked-down browsers). */
function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Every IANA time zone this browser knows, including its own zone and UTC. */
function timeZoneOptions(current: string): { value: string; label: string }[] {
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  const all = [...new Set([...zones, current, 'UTC'])].sort((a, b) => a.localeCompare(b));
  return all.map((zone) => ({ value: zone, label: zone.replaceAll('_', ' ') }));
}

export interface SetupPageProps {
  token: string | null;
  onSignedIn(session: Session): void;
}

export function SetupPage({ token, onSignedIn }: SetupPageProps) {
  const headingRef = useArrivalFocus<HTMLHeadingElement>();
  return (
    <Page title="Set up Waymark">
      <section className="card" aria-labelledby="setup-title">
        <h2 id="setup-title" ref={headingRef} tabIndex={-1}>
          Set up Waymark
        </h2>
        {token ? (
          <SetupForm token={token} onSignedIn={onSignedIn} />
        ) : (
          <div className="missing-token">
            <p>
              This page needs the setup link that Waymark printed in its log when the server first
              started. That link ends in <code>/setup?token=wm_setup_…</code>; open it exactly as
              printed.
            </p>
            <p>
              If Waymark is already set up, <Link href="/login">sign in</Link> instead.
            </p>
          </div>
        )}
      </section>
    </Page>
  );
}

function SetupForm({ token, onSignedIn }: { token: string; onSignedIn(session: Session): void }) {
  const { failure, sending, submit } = useFormSubmission(FIELDS);
  const timeZone = useMemo(browserTimeZone, []);
  const zones = useMemo(() => timeZoneOptions(timeZone), [timeZone]);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const input = {
      token,
      workspaceName: textOf(data, 'workspaceName').trim(),
      timeZone: textOf(data, 'timeZone'),
      name: textOf(data, 'name').trim(),
      email: textOf(data, 'email').trim(),
      password: textOf(data, 'password'),
    };

    await submit(
      collect({
        workspaceName: checkRequired(input.workspaceName, 'Enter a name for the workspace.'),
        timeZone: checkRequired(input.timeZone, 'Choose a time zone.'),
        name: checkRequired(input.name, 'Enter your name.'),
        email: checkEmail(input.email),
        password: checkNewPassword(input.password),
      }),
      async () => {
        onSignedIn(await setUpWorkspace(input));
      },
    );
  }

  return (
    <>
      <p className="card-lede">
        Create the first workspace and its admin account. You can invite the rest of your team
        afterwards.
      </p>
      <form className="form" noValidate onSubmit={handleSubmit}>
        {failure && (
          <ErrorSummary form={FORM} failure={failure} labels={LABELS}>
            {isSpentLink(failure) && (
              <p>
                If Waymark is already set up, <Link href="/login">sign in</Link> instead.
              </p>
            )}
          </ErrorSummary>
        )}
        <fieldset>
          <legend>Workspace</legend>
          <TextField
            form={FORM}
            name="workspaceName"
            label={LABELS.workspaceName}
            autoComplete="organization"
            hint="Usually your company's name. You can change it later."
            error={failure?.fields.workspaceName}
          />
          <SelectField
            form={FORM}
            name="timeZone"
            label={LABELS.timeZone}
            hint="Dates and schedules are shown in this time zone. We picked this browser's."
            defaultValue={timeZone}
            options={zones}
            error={failure?.fields.timeZone}
          />
        </fieldset>
        <fieldset>
          <legend>Your admin account</legend>
          <TextField
            form={FORM}
            name="name"
            label={LABELS.name}
            autoComplete="name"
            error={failure?.fields.name}
          />
          <TextField
            form={FORM}
            name="email"
            label={LABELS.email}
            type="email"
            autoComplete="email"
            hint="You will sign in with this address."
            error={failure?.fields.email}
          />
          <NewPasswordField form={FORM} label={LABELS.password} error={failure?.fields.password} />
        </fieldset>
        <SubmitButton sending={sending} label="Set up Waymark" sendingLabel="Setting up…" />
      </form>
    </>
  );
}
