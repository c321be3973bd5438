/**
 * Who may do what: the one permission matrix. Routes name a permission; this
 * table alone decides which roles hold it (docs/permissions.md is generated from
 * the same table by its test).
 */
export const roles = ['admin', 'manager', 'csm', 'viewer'] as const;
export type Role = (typeof roles)[number];

export const permissionMatrix = {
  'workspace:read': ['admin', 'manager', 'csm', 'viewer'],
  'workspace:manage': ['admin'],
  'users:read': ['admin', 'manager', 'csm', 'viewer'],
  'users:manage': ['admin'],
  'api_keys:manage': ['admin'],
  'audit:read': ['admin', 'manager'],
  'accounts:read': ['admin', 'manager', 'csm', 'viewer'],
  'accounts:write': ['admin', 'manager', 'csm'],
  'programs:read': ['admin', 'manager', 'csm', 'viewer'],
  'programs:write': ['admin', 'manager'],
  'progress:complete': ['admin', 'manager', 'csm'],
  'progress:waive': ['admin', 'manager'],
  'progress:reopen': ['admin', 'manager'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionMatrix;
export const permissions = Object.keys(permissionMatrix) as Permission[];

export const permissionDescriptions: Record<Permission, string> = {
  'workspace:read': 'see the workspace and its settings',
  'workspace:manage': 'change the workspace settings',
  'users:read': 'see the people of the workspace',
  'users:manage': 'invite people, change roles and managers, deactivate',
  'api_keys:manage': 'create, list and revoke API keys',
  'audit:read': 'read the audit trail',
  'accounts:read': 'see accounts, contacts, enrollments and progress',
  'accounts:write': 'create and edit accounts and contacts, enroll accounts',
  'programs:read': 'see programs and their versions',
  'programs:write': 'author, publish and migrate programs',
  'progress:complete': 'mark a milestone completed with evidence',
  'progress:waive': 'waive a milestone with a reason',
  'progress:reopen': 'reopen a completed or waived milestone with a reason',
};

export function can(role: Role, permission: Permission): boolean {
  return (permissionMatrix[permission] as readonly Role[]).includes(role);
}

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}
