import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgTimestampToIso } from './codec.js';

/** `instant` as PostgreSQL renders a timestamptz with `digits` fraction digits, in `zone`. */
function rendered(instant: Date, digits: number, zoneMinutes: number): string {
  const local = new Date(instant.getTime() + zoneMinutes * 60_000).toISOString();
  const micros = `${local.slice(20, 23)}${'456'.slice(0, Math.max(0, digits - 3))}`;
  const fraction = digits === 0 ? '' : `.${micros.slice(0, digits)}`.replace(/\.?0+$/, '');
  const sign = zoneMinutes < 0 ? '-' : '+';
  const hours = String(Math.trunc(Math.abs(zoneMinutes) / 60)).padStart(2, '0');
  const minutes = Math.abs(zoneMinutes) % 60;
  const zone = `${sign}${hours}${minutes === 0 ? '' : `:${String(minutes).padStart(2, '0')}`}`;
  return `${local.slice(0, 10)} ${local.slice(11, 19)}${fraction}${zone}`;
}

describe('pgTimestampToIso', () => {
  const instants = fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('9998-12-31T23:59:59Z'),
    noInvalidDate: true,
  });

  it('gives the ISO-8601 UTC instant, milliseconds kept, for any fraction and zone', () => {
    fc.assert(
      fc.property(
        instants,
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(0, 60, -300, 330, -570),
        (instant, digits, zone) => {
          const expected = new Date(
            digits === 0 ? Math.floor(instant.getTime() / 1000) * 1000 : instant.getTime(),
          );
          if (digits > 0 && digits < 3) {
            const unit = 10 ** (3 - digits);
            expected.setUTCMilliseconds(Math.floor(instant.getUTCMilliseconds() / unit) * unit);
          }
          expect(pgTimestampToIso(rendered(instant, digits, zone))).toBe(expected.toISOString());
        },
      ),
    );
  });

  it('reads the forms PostgreSQL prints', () => {
    expect(pgTimestampToIso('2026-03-08 07:00:00+00')).toBe('2026-03-08T07:00:00.000Z');
    expect(pgTimestampToIso('2026-03-08 07:00:00.1+00')).toBe('2026-03-08T07:00:00.100Z');
    expect(pgTimestampToIso('2026-03-08 07:00:00.123456+00')).toBe('2026-03-08T07:00:00.123Z');
    expect(pgTimestampToIso('2026-03-08 02:00:00.5-05')).toBe('2026-03-08T07:00:00.500Z');
    expect(pgTimestampToIso('2026-03-08 12:30:00+05:30')).toBe('2026-03-08T07:00:00.000Z');
  });
});
