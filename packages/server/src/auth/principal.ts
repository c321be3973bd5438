import type { Actor, Role } from '@waymark/core';
import type { ApiKeyKind } from '../api-keys/api-keys.repo.js';

/** Who is calling, once authenticated. */
export type Principal =
  | {
      kind: 'user';
      workspaceId: string;
      userId: string;
      role: Role;
      sessionTokenHash: string;
      csrfToken: string;
    }
  | { kind: 'api_key'; workspaceId: string; keyId: string; keyKind: ApiKeyKind; role: Role | null };

export function actorOf(principal: Principal): Actor {
  return principal.kind === 'user'
    ? { type: 'user', id: principal.userId }
    : { type: 'api_key', id: principal.keyId };
}
