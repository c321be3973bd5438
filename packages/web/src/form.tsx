/** Accessible form parts shared by the sign-in pages. */
import {
  type MouseEvent,
  type ReactNode,
  type SelectHTMLAttributes,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { ApiProblem, describeProblem, sentence } from './api.ts';
import { PASSWORD_MIN_LENGTH } from './auth.ts';
import { type FieldErrors, isEmpty } from './validation.ts';

/** Why a submission failed: a sentence, per-field messages, or both. */
export interface FormFailure {
  message?: string;
  /** Messages keyed by the form field's name. */
  fields: Partial<Record<string, string>>;
  /** Field errors from the server for fields this form does not show. */
  others?: string[];
  /** The HTTP status when the server refused the request. */
  status?: number;
}

/**
 * Statuses that mean a setup or invitation link can no longer be used (wrong, expired, already
 * used, or Waymark already set up), where signing in is the way on.
 */
export function isSpentLink(failure: FormFailure): boolean {
  return failure.status !== undefined && [401, 403, 404, 409, 410].includes(failure.status);
}

/** The form field a server error names: `body.password` is the `password` field. */
function formFieldOf(serverField: string): string {
  return serverField.replace(/^body\./, '');
}

/**
 * Turns any error from a submission into a `FormFailure`. Field errors go next to their fields;
 * `message` (when given and not undefined for this problem) replaces the generic sentence.
 */
export function failureFrom(
  error: unknown,
  formFields: readonly string[],
  message?: (problem: ApiProblem) => string | undefined,
): FormFailure {
  if (!(error instanceof ApiProblem)) return { message: describeProblem(error), fields: {} };
  const fields: Partial<Record<string, string>> = {};
  const others: string[] = [];
  const status = error.status;
  for (const { field, message: text } of error.fieldErrors) {
    const name = formFieldOf(field);
    if (formFields.includes(name)) fields[name] ??= sentence(text);
    else others.push(`${name}: ${text}`);
  }
  const custom = message?.(error);
  if (custom !== undefined) return { message: custom, fields, others, status };
  if (error.fieldErrors.length > 0) return { fields, others, status };
  return { message: describeProblem(error), fields, others, status };
}

export function hasFailure(failure: FormFailure): boolean {
  return (
    failure.message !== undefined ||
    Object.values(failure.fields).some((m) => m !== undefined) ||
    (failure.others?.length ?? 0) > 0
  );
}

export function fieldId(form: string, name: string): string {
  return `${form}-${name}`;
}

export interface ErrorSummaryProps {
  form: string;
  failure: FormFailure;
  /** The visible label of each field, by name, in the order the form shows them. */
  labels: Readonly<Record<string, string>>;
  children?: ReactNode;
}

/**
 * The list of what went wrong, at the top of the form. It takes focus each time a new failure
 * is shown (and is an alert), so screen readers read it out; each field error links to its field.
 */
export function ErrorSummary({ form, failure, labels, children }: ErrorSummaryProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // A new `failure` object for each failed attempt moves focus again, even with the same text.
    if (hasFailure(failure)) ref.current?.focus();
  }, [failure]);

  const fieldMessages = Object.keys(labels).flatMap((name) => {
    const message = failure.fields[name];
    return message === undefined ? [] : [{ name, message }];
  });

  function focusField(event: MouseEvent<HTMLAnchorElement>, name: string) {
    const input = document.getElementById(fieldId(form, name));
    if (!input) return;
    event.preventDefault();
    input.focus();
  }

  const titleId = `${form}-error-title`;
  return (
    <div className="error-summary" role="alert" aria-labelledby={titleId} tabIndex={-1} ref={ref}>
      <h3 id={titleId}>
        {fieldMessages.length > 0 && failure.message === undefined
          ? 'Check the highlighted fields'
          : 'There is a problem'}
      </h3>
      {failure.message !== undefined && <p>{failure.message}</p>}
      {children}
      {(fieldMessages.length > 0 || (failure.others?.length ?? 0) > 0) && (
        <ul>
          {fieldMessages.map(({ name, message }) => (
            <li key={name}>
              <a href={`#${fieldId(form, name)}`} onClick={(event) => focusField(event, name)}>
                {labels[name]}: {message}
              </a>
            </li>
          ))}
          {failure.others?.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface FieldShellProps {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  children: (describedBy: string | undefined) => ReactNode;
}

function FieldShell({ id, label, hint, error, children }: FieldShellProps) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy =
    [hint !== undefined ? hintId : null, error !== undefined ? errorId : null]
      .filter((part) => part !== null)
      .join(' ') || undefined;
  return (
    <div className={error === undefined ? 'field' : 'field field-invalid'}>
      <label htmlFor={id}>{label}</label>
      {hint !== undefined && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
      {children(describedBy)}
    </div>
  );
}

export interface TextFieldProps {
  form: string;
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  autoComplete: string;
  hint?: string;
  error?: string | undefined;
  defaultValue?: string;
}

export function TextField({
  form,
  name,
  label,
  type = 'text',
  autoComplete,
  hint,
  error,
  defaultValue,
}: TextFieldProps) {
  const id = fieldId(form, name);
  const isEmail = type === 'email';
  return (
    <FieldShell id={id} label={label} hint={hint} error={error}>
      {(describedBy) => (
        <input
          id={id}
          name={name}
          type={type}
          autoComplete={autoComplete}
          defaultValue={defaultValue}
          required
          aria-invalid={error !== undefined || undefined}
          aria-describedby={describedBy}
          {...(isEmail && { spellCheck: false, autoCapitalize: 'none', inputMode: 'email' })}
        />
      )}
    </FieldShell>
  );
}

export interface SelectFieldProps
  extends Pick<SelectHTMLAttributes<HTMLSelectElement>, 'defaultValue'> {
  form: string;
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  options: readonly { value: string; label: string }[];
}

export function SelectField({
  form,
  name,
  label,
  hint,
  error,
  options,
  defaultValue,
}: SelectFieldProps) {
  const id = fieldId(form, name);
  return (
    <FieldShell id={id} label={label} hint={hint} error={error}>
      {(describedBy) => (
        <select
          id={id}
          name={name}
          defaultValue={defaultValue}
          required
          aria-invalid={error !== undefined || undefined}
          aria-describedby={describedBy}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}

/**
 * One form submission at a time, with its failure: `submit(fieldErrors, task)` shows the
 * browser-side field errors if there are any; otherwise it runs `task` once (a second submit
 * while one is in flight is ignored, even before the disabled button has rendered — a double
 * Enter) and turns what the server refused into field and form messages.
 */
export function useFormSubmission(
  formFields: readonly string[],
  message?: (problem: ApiProblem) => string | undefined,
) {
  const [failure, setFailure] = useState<FormFailure | null>(null);
  const [sending, setSending] = useState(false);
  const inFlight = useRef(false);
  const submit = useCallback(
    async (fieldErrors: FieldErrors, task: () => Promise<void>) => {
      if (!isEmpty(fieldErrors)) {
        setFailure({ fields: fieldErrors });
        return;
      }
      if (inFlight.current) return;
      inFlight.current = true;
      setFailure(null);
      setSending(true);
      try {
        await task();
      } catch (error) {
        setFailure(failureFrom(error, formFields, message));
      } finally {
        inFlight.current = false;
        setSending(false);
      }
    },
    [formFields, message],
  );
  return { failure, sending, submit };
}

/** The form's submit button: disabled (and saying so) while the request is in flight. */
export function SubmitButton({
  sending,
  label,
  sendingLabel,
}: {
  sending: boolean;
  label: string;
  sendingLabel: string;
}) {
  return (
    <button className="button button-primary" type="submit" disabled={sending}>
      {sending ? sendingLabel : label}
    </button>
  );
}

/** A form field's value as a string (FormData gives File | string | null). */
export function textOf(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

/** The password a person chooses (set-up, invitation), with the rule it must meet as its hint. */
export function NewPasswordField({
  form,
  label,
  error,
}: {
  form: string;
  label: string;
  error: string | undefined;
}) {
  return (
    <TextField
      form={form}
      name="password"
      label={label}
      type="password"
      autoComplete="new-password"
      hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
      error={error}
    />
  );
}
