const links = [
  {
    href: '/api/docs',
    label: 'API reference',
    hint: 'Endpoints for events, milestones and customer verification.',
  },
  { href: '/healthz', label: 'Health check', hint: 'Confirms this Waymark server is up.' },
] as const;

export function App() {
  return (
    <main className="page">
      <header className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
          <rect width="32" height="32" rx="7" />
          <path d="M11 7v18M11 8h12l-3.5 4.5L23 17H11" />
        </svg>
        <h1>Waymark</h1>
      </header>
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
    </main>
  );
}
