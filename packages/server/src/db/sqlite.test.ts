import { describe, expect, it } from 'vitest';
import { openSqliteFile, sqliteDriver } from './sqlite.js';

describe('the SQLite driver', () => {
  it('is better-sqlite3 12 on Node 20 and the Node-API build (13) from Node 22 on', () => {
    expect(sqliteDriver('20.20.2').package).toBe('better-sqlite3');
    expect(sqliteDriver('22.14.0').package).toBe('better-sqlite3-napi');
    expect(sqliteDriver('24.21.0').package).toBe('better-sqlite3-napi');
  });

  it('survives many collected statements on this Node (Node 24 aborted with 12.x)', () => {
    const db = openSqliteFile(':memory:');
    db.exec('create table t (x integer)');
    for (let i = 0; i < 5000; i++) db.prepare('insert into t values (?)').run(i);
    (globalThis as { gc?: () => void }).gc?.();
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 5000 });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});
