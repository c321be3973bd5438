import { describe, expect, it } from 'vitest';
import { can, permissionDescriptions, permissions, roles } from './permissions.js';

describe('permission matrix', () => {
  it('gives an admin every permission and a viewer only reading, but not the audit trail', () => {
    for (const p of permissions) expect(can('admin', p), p).toBe(true);
    for (const p of permissions) {
      expect(can('viewer', p), p).toBe(p.endsWith(':read') && p !== 'audit:read');
    }
  });

  it('nests roles: whatever a lower role may do, every higher role may do too', () => {
    for (const p of permissions) {
      const allowed = roles.map((r) => can(r, p));
      // roles are listed from most to least powerful: once false, false after
      expect(
        allowed.indexOf(false) === -1 || allowed.slice(allowed.indexOf(false)).every((a) => !a),
        p,
      ).toBe(true);
    }
  });

  it('describes every permission', () => {
    expect(Object.keys(permissionDescriptions).sort()).toEqual([...permissions].sort());
  });
});
