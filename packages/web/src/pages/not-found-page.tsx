import { Page, useArrivalFocus } from '../layout.tsx';
import { Link } from '../router.tsx';

export function NotFoundPage() {
  const headingRef = useArrivalFocus<HTMLHeadingElement>();
  return (
    <Page title="Page not found">
      <section className="card" aria-labelledby="not-found-title">
        <h2 id="not-found-title" ref={headingRef} tabIndex={-1}>
          Page not found
        </h2>
        <p>
          There is no page at this address. <Link href="/">Go to the dashboard</Link>.
        </p>
      </section>
    </Page>
  );
}
