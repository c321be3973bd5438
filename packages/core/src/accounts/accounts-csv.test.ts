import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAccountsCsv, traitValue } from './accounts-csv.js';

describe('parseAccountsCsv', () => {
  it('reads accounts with typed traits and a contact', () => {
    const csv = [
      'external_id,name,segment,owner_email,time_zone,trait.seats,trait.arr,trait.beta,trait.zip,contact_email,contact_name',
      'org_1,Acme,Enterprise,CSM@Example.com,Europe/Berlin,120,4500.5,true,01234,Ann@Acme.io,Ann Lee',
      '"org_2","Beta, Inc.",,,,,,,,,',
    ].join('\n');
    const { rows, errors } = parseAccountsCsv(csv);
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        row: 2,
        externalId: 'org_1',
        name: 'Acme',
        segment: 'Enterprise',
        ownerEmail: 'csm@example.com',
        timeZone: 'Europe/Berlin',
        traits: { seats: 120, arr: 4500.5, beta: true, zip: '01234' },
        contact: { email: 'ann@acme.io', name: 'Ann Lee' },
      },
      {
        row: 3,
        externalId: 'org_2',
        name: 'Beta, Inc.',
        segment: null,
        ownerEmail: null,
        timeZone: null,
        traits: {},
        contact: null,
      },
    ]);
  });

  it('names unknown and missing columns at once', () => {
    const { errors } = parseAccountsCsv('external_id,segmnt,owner\nx,y,z\n');
    expect(errors).toEqual([
      { row: 1, column: 'segmnt', message: expect.stringContaining('unknown column') },
      { row: 1, column: 'owner', message: expect.stringContaining('unknown column') },
      { row: 1, column: 'name', message: 'required column is missing' },
    ]);
  });

  it('reports every row fault with its spreadsheet row and column', () => {
    const csv = [
      'external_id,name,time_zone,owner_email,contact_name',
      'a,A,Mars/Olympus,,',
      ',B,,not-an-email,',
      'a,C,,,Someone',
    ].join('\r\n');
    const { rows, errors } = parseAccountsCsv(csv);
    expect(rows).toEqual([]);
    expect(errors).toEqual([
      { row: 2, column: 'time_zone', message: expect.stringContaining('IANA') },
      { row: 3, column: 'external_id', message: 'required' },
      { row: 3, column: 'owner_email', message: 'not an email address' },
      { row: 4, column: 'external_id', message: 'a is already in row 2' },
      { row: 4, column: 'contact_email', message: 'required when contact_name is given' },
    ]);
  });

  it('reports broken CSV and an empty file', () => {
    expect(parseAccountsCsv('').errors[0]?.message).toMatch(/empty/);
    const broken = parseAccountsCsv('external_id,name\n"unterminated,x\n');
    expect(broken.errors).toHaveLength(1);
    expect(broken.errors[0]?.message).toMatch(/not valid CSV/);
  });

  it('types trait cells, and a typed value prints back to the same cell', () => {
    expect(traitValue('42')).toBe(42);
    expect(traitValue('-3.25')).toBe(-3.25);
    expect(traitValue('FALSE')).toBe(false);
    expect(traitValue('007')).toBe('007');
    expect(traitValue('1e5')).toBe('1e5');
    fc.assert(
      fc.property(fc.integer(), (n) => {
        expect(traitValue(String(n))).toBe(n);
      }),
    );
  });
});
