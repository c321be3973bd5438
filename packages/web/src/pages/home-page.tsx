import { useState } from 'react';
import { describeProblem } from '../api.ts';
import { logout, type Session } from '../auth.ts';
import { Page } from '../layout.tsx';

const links = [
  {
    href: '/api/docs',
    label: 'API reference',
    hint: 'Endpoints for events, milestones and customer verification.',
  },
  { href: '/healthz', label: 'Health check', hint: 'Confirms this Waymark server is up.' },
] as const;

export interface HomePageProps {
  session: Session;
  onSignedOut(): void;
}

export function HomePage({ session, onSignedOut }: HomePageProps) {
  const [signingOut, setSigningOut] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    if (signingOut) return;
    setSigningOut(true);
    setError(null);
    try {
      await logout();
      onSignedOut();
    } catch (problem) {
      setError(`Could not sign out. ${describeProblem(problem)}`);
      setSigningOut(false);
    }
  }

  return (
    <Page focusBrand>
      <div className="account">
        <p>
          Signed in as <strong>{session.user.name}</strong> ({session.user.role}) in{' '}
          <strong>{session.workspace.name}</strong>
        </p>
        <button
          className="button button-secondary"
          type="button"
          onClick={signOut}
          disabled={signingOut}
        >
          {signingOut ? 'Signing out…' : 'Sign out'}
        </button>
      </div>
      {error !== null && (
        <p className="alert" role="alert">
          {error}
        </p>
      )}
      <p className="lede">
        Customer onboarding milestones, tracked from product usage and verified by your customers.
      </p>

      <section className="empty" aria-labelledby="empty-title">
        <h2 id="empty-title">The dashboard arrives soon</h2>
        <p>
          This server is running, but there is nothing to show here yet. Until the dashboard ships,
          you can work with Waymark through its API.
        </p>
        <ul className="links">
          {links.map((link) => (
            <li key={link.href}>
              <a href={link.href}>{link.label}</a>
              <span className="hint">{link.hint}</span>
            </li>
          ))}
        </ul>
      </section>
    </Page>
  );
}
