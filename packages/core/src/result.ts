/**
 * Expected failures (bad input, a transition that is not allowed) are values, not exceptions,
 * so callers must look at them and the type checker makes sure they do.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
