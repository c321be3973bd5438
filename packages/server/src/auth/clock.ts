/** Now, as an ISO-8601 UTC instant. Injected so tests can move time. */
export type Clock = () => string;
export const systemClock: Clock = () => new Date().toISOString();
