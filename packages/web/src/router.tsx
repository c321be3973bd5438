/**
 * Routing by `location.pathname`: `navigate()` uses `history.pushState` (or `replaceState`),
 * the browser's back and forward buttons fire `popstate`, and `useLocation()` re-renders on both.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

const NAVIGATE_EVENT = 'waymark:navigate';

let navigatedInApp = false;

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

export interface AppLocation {
  pathname: string;
  search: URLSearchParams;
}

/** The current path and query; components using it re-render when either changes. */
export function useLocation(): AppLocation {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, window.location.origin);
  return { pathname: url.pathname, search: url.searchParams };
}

export interface NavigateOptions {
  /** Replace the current history entry instead of adding one. */
  replace?: boolean;
  /**
   * A redirect while the page is still loading (such as `/` to `/login` when signed out): it
   * should feel like the page that loaded, so focus is left where a page load leaves it.
   */
  redirect?: boolean;
}

/** Goes to a path on this origin without reloading the page. */
export function navigate(to: string, options: NavigateOptions = {}): void {
  if (to === snapshot()) return;
  if (options.replace || options.redirect) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  if (!options.redirect) navigatedInApp = true;
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

window.addEventListener('popstate', () => {
  navigatedInApp = true;
});

/**
 * True once the page has changed without a reload (a link, a redirect, back or forward). Pages
 * then move focus to their heading, as a full page load would put screen readers at the top.
 */
export function hasNavigatedInApp(): boolean {
  return navigatedInApp;
}

/** An `<a>` to a page of this app: a plain click navigates in place, other clicks as usual. */
export function Link({
  href,
  onClick,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  function handleClick(event: MouseEvent<HTMLAnchorElement>) {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    event.preventDefault();
    navigate(href);
  }
  return <a href={href} onClick={handleClick} {...rest} />;
}
