import { randomUUID } from 'node:crypto';

/** Identifiers are random UUIDs: unguessable across workspaces, and safe to create before insert. */
export const newId = (): string => randomUUID();
