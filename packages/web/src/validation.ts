/** Checks made in the browser before sending; the server checks the same and has the last word. */
import { PASSWORD_MIN_LENGTH } from './auth.ts';

export type FieldErrors = Partial<Record<string, string>>;

/** Loose on purpose: the server decides what a valid address is. */
export function checkEmail(value: string): string | undefined {
  if (value === '') return 'Enter your email address.';
  if (!/^[^\s@]+@[^\s@]+$/.test(value)) return 'Enter an email address like name@example.com.';
  return undefined;
}

export function checkRequired(value: string, message: string): string | undefined {
  return value.trim() === '' ? message : undefined;
}

export function checkNewPassword(value: string): string | undefined {
  if (value === '') return 'Choose a password.';
  // Count code points, not UTF-16 units, as a person would.
  if ([...value].length < PASSWORD_MIN_LENGTH) {
    return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  }
  return undefined;
}

/** Only the fields with a message. */
export function collect(errors: FieldErrors): FieldErrors {
  return Object.fromEntries(Object.entries(errors).filter(([, message]) => message !== undefined));
}

export function isEmpty(errors: FieldErrors): boolean {
  return Object.keys(collect(errors)).length === 0;
}
