/**
 * A tiny client for Waymark's JSON API on this origin.
 *
 * Requests send and receive JSON with the session cookie (`credentials: 'same-origin'`), and
 * every non-GET request carries the `x-csrf-token` header once the token is known (from the
 * sign-in, setup, invitation or session response). Any failure becomes an `ApiProblem`: RFC 9457
 * problem documents keep their fields, and other failures (no network, a proxy's HTML error
 * page) are turned into a problem too, so callers handle exactly one error type.
 */

export interface FieldError {
  /** The server's name for the field, such as `body.password`. */
  field: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  title: string;
  type?: string;
  detail?: string;
  fieldErrors?: FieldError[];
  retryAt?: Date;
}

export class ApiProblem extends Error {
  override name = 'ApiProblem';
  /** The HTTP status, or 0 when the server could not be reached at all. */
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly fieldErrors: FieldError[];
  /** From a `Retry-After` header: when the request may be tried again. */
  readonly retryAt: Date | undefined;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.status = init.status;
    this.type = init.type ?? 'about:blank';
    this.title = init.title;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? [];
    this.retryAt = init.retryAt;
  }
}

let csrfToken: string | null = null;

/** Remembers (or, with null, forgets) the CSRF token sent on every non-GET request. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** `Retry-After` is either a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): Date | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return new Date(now + Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : new Date(date);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldErrorsOf(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) =>
    isRecord(entry) && typeof entry.field === 'string' && typeof entry.message === 'string'
      ? [{ field: entry.field, message: entry.message }]
      : [],
  );
}

async function problemFrom(response: Response): Promise<ApiProblem> {
  const retryAt = parseRetryAfter(response.headers.get('retry-after'));
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isRecord(body)) {
    return new ApiProblem({
      status: response.status,
      title: typeof body.title === 'string' ? body.title : response.statusText || 'Request failed',
      ...(typeof body.type === 'string' && { type: body.type }),
      ...(typeof body.detail === 'string' && { detail: body.detail }),
      fieldErrors: fieldErrorsOf(body.errors),
      ...(retryAt && { retryAt }),
    });
  }
  return new ApiProblem({
    status: response.status,
    title: response.statusText || `Request failed with status ${response.status}`,
    ...(retryAt && { retryAt }),
  });
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Sends one request; resolves with the parsed JSON body (undefined for an empty one). */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiProblem({
      status: 0,
      title: 'Network error',
      detail: error instanceof Error ? error.message : String(error),
    });
  }

  if (!response.ok) throw await problemFrom(response);
  const text = await response.text();
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiProblem({
      status: response.status,
      title: 'The server sent an unreadable answer',
    });
  }
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
};

/** "must be at least 12 characters" reads as "Must be at least 12 characters." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…)]$/.test(capital) ? capital : `${capital}.`;
}

/** A sentence for people, for problems that no form field explains. */
export function describeProblem(problem: unknown): string {
  if (!(problem instanceof ApiProblem)) {
    return 'Something went wrong in this page. Reload it and try again.';
  }
  if (problem.status === 0) {
    return 'Waymark could not be reached. Check your connection and try again.';
  }
  if (problem.status >= 500) {
    return 'Something went wrong on the Waymark server. Try again in a moment.';
  }
  return sentence(problem.detail ?? problem.title);
}
