import { isValidTimeZone, roles } from '@waymark/core';
import { z } from 'zod';

export const emailSchema = z
  .email({ message: 'expected an email address' })
  .max(254)
  .transform((e) => e.toLowerCase());

/** Length is what makes a password strong; no composition rules (NIST SP 800-63B). */
export const newPasswordSchema = z
  .string()
  .min(12, { message: 'use at least 12 characters' })
  .max(256, { message: 'use at most 256 characters' });

export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin' });

export const roleSchema = z.enum(roles);

export const loginBodySchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(256),
});

export const setupBodySchema = z.object({
  token: z.string().min(1),
  workspaceName: z.string().trim().min(1).max(120),
  timeZone: timeZoneSchema,
  name: z.string().trim().min(1).max(120),
  email: emailSchema,
  password: newPasswordSchema,
});

export const acceptInvitationBodySchema = z.object({
  token: z.string().min(1),
  name: z.string().trim().min(1).max(120),
  password: newPasswordSchema,
});

export const signedInSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), role: roleSchema }),
  workspace: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  csrfToken: z
    .string()
    .describe('send as the x-csrf-token header on every change made with the session cookie'),
});
export type SignedIn = z.infer<typeof signedInSchema>;
