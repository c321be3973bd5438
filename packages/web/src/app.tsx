/**
 * The dashboard: picks a page from `location.pathname` and keeps who is signed in.
 *
 *   /               home (signed in), otherwise redirects to /login
 *   /login          sign in (redirects to / when already signed in)
 *   /setup          first-run setup, with ?token=wm_setup_…
 *   /accept-invite  accept an invitation, with ?token=wm_inv_…
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiProblem } from './api.ts';
import { getSession, type Session } from './auth.ts';
import { AcceptInvitePage } from './pages/accept-invite-page.tsx';
import { HomePage } from './pages/home-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';
import { SessionCheckPage } from './pages/session-check-page.tsx';
import { SetupPage } from './pages/setup-page.tsx';
import { navigate, useLocation } from './router.tsx';

type SessionState =
  | { status: 'unknown' }
  | { status: 'checking' }
  | { status: 'signed-in'; session: Session }
  | { status: 'signed-out' }
  | { status: 'failed'; error: unknown };

/** `/login/` is `/login`. */
function normalize(pathname: string): string {
  return pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
}

export function App() {
  const location = useLocation();
  const pathname = normalize(location.pathname);
  const [state, setState] = useState<SessionState>({ status: 'unknown' });
  const [notice, setNotice] = useState<string | undefined>(undefined);

  // Only the home page and the sign-in page need to know; the setup and invitation pages
  // work signed out, and asking there would only log a 401 in the console.
  const needsSession = pathname === '/' || pathname === '/login';

  // Only the latest check may set the state (an older answer arriving late is dropped).
  const latestCheck = useRef(0);
  const checkSession = useCallback(() => {
    const check = ++latestCheck.current;
    setState({ status: 'checking' });
    getSession().then(
      (session) => {
        if (check === latestCheck.current) setState({ status: 'signed-in', session });
      },
      (error: unknown) => {
        if (check !== latestCheck.current) return;
        setState(
          error instanceof ApiProblem && error.status === 401
            ? { status: 'signed-out' }
            : { status: 'failed', error },
        );
      },
    );
  }, []);

  useEffect(() => {
    if (needsSession && state.status === 'unknown') checkSession();
  }, [needsSession, state.status, checkSession]);

  // Redirects that happen on their own (not after a click) replace the history entry.
  useEffect(() => {
    if (pathname === '/' && state.status === 'signed-out') navigate('/login', { redirect: true });
    if (pathname === '/login' && state.status === 'signed-in') navigate('/', { redirect: true });
  }, [pathname, state.status]);

  const signedIn = useCallback((session: Session) => {
    latestCheck.current++;
    setNotice(undefined);
    setState({ status: 'signed-in', session });
    // Replace the sign-in, setup or invitation page: Back should not return to a used form,
    // and a setup or invitation token should not stay in the history.
    navigate('/', { replace: true });
  }, []);

  const signedOut = useCallback(() => {
    latestCheck.current++;
    setNotice('You have signed out.');
    setState({ status: 'signed-out' });
    navigate('/login', { replace: true });
  }, []);

  switch (pathname) {
    case '/':
      if (state.status === 'signed-in') {
        return <HomePage session={state.session} onSignedOut={signedOut} />;
      }
      return (
        <SessionCheckPage
          error={state.status === 'failed' ? state.error : null}
          onRetry={checkSession}
        />
      );
    case '/login':
      return <LoginPage onSignedIn={signedIn} notice={notice} />;
    case '/setup':
      return <SetupPage token={location.search.get('token')} onSignedIn={signedIn} />;
    case '/accept-invite':
      return <AcceptInvitePage token={location.search.get('token')} onSignedIn={signedIn} />;
    default:
      return <NotFoundPage />;
  }
}
