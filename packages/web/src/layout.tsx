import { type ReactNode, type RefObject, useEffect, useRef } from 'react';
import { hasNavigatedInApp } from './router.tsx';

/**
 * A ref for the element that receives focus when this page is reached without a reload, so
 * that keyboard and screen-reader users start at the new page instead of a vanished button.
 */
export function useArrivalFocus<T extends HTMLElement>(): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (hasNavigatedInApp()) ref.current?.focus();
  }, []);
  return ref;
}

export interface PageProps {
  /** Shown in the browser tab as "<title> · Waymark"; omit for plain "Waymark". */
  title?: string;
  /** Focus the "Waymark" h1 on arrival (pages without a heading of their own). */
  focusBrand?: boolean;
  busy?: boolean;
  children: ReactNode;
}

/** The frame every page shares: one main landmark with the Waymark mark and h1. */
export function Page({ title, focusBrand = false, busy = false, children }: PageProps) {
  const brandRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = title ? `${title} · Waymark` : 'Waymark';
  }, [title]);
  useEffect(() => {
    if (focusBrand && hasNavigatedInApp()) brandRef.current?.focus();
  }, [focusBrand]);

  return (
    <main className="page" aria-busy={busy || undefined}>
      <header className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
          <rect width="32" height="32" rx="7" />
          <path d="M11 7v18M11 8h12l-3.5 4.5L23 17H11" />
        </svg>
        <h1 ref={brandRef} tabIndex={-1}>
          Waymark
        </h1>
      </header>
      {children}
    </main>
  );
}
