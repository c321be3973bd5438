import { z } from 'zod';
import { emailSchema, roleSchema } from '../auth/auth.schemas.js';

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  managerId: z
    .string()
    .nullable()
    .describe('the manager this person reports to; escalations reach them'),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const userParamsSchema = z.object({ userId: z.string().min(1) });

export const updateUserBodySchema = z
  .object({
    role: roleSchema.optional(),
    managerId: z.string().nullable().optional(),
    active: z.boolean().optional().describe('false deactivates: sessions end, history stays'),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'give at least one of role, managerId, active',
  });

export const inviteBodySchema = z.object({
  email: emailSchema,
  role: roleSchema,
  managerId: z.string().nullable().default(null),
});

export const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: roleSchema,
  managerId: z.string().nullable(),
  expiresAt: z.string(),
  link: z.string().describe('the one-time link for the person; shown only now'),
  emailed: z.boolean().describe('whether Waymark emailed the link (needs WAYMARK_SMTP_URL)'),
});
