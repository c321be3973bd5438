import { describe, expect, it } from 'vitest';
import { programJsonSchema } from './program-json-schema.js';

/**
 * JSON printed the way Biome formats it (2 spaces, objects expanded, arrays of plain values on
 * one line when they fit in 100 columns), so that the committed file passes `biome check`.
 */
function formatJson(value: unknown, indent = '', prefixLength = 0, last = true): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = value.every((item) => item === null || typeof item !== 'object');
    const oneLine = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    if (flat && indent.length + prefixLength + oneLine.length + (last ? 0 : 1) <= 100) {
      return oneLine;
    }
    const items = value.map(
      (item, i) => `${inner}${formatJson(item, inner, 0, i === value.length - 1)}`,
    );
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([key, item], i) => {
      const prefix = `${JSON.stringify(key)}: `;
      return `${inner}${prefix}${formatJson(item, inner, prefix.length, i === entries.length - 1)}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

describe('programJsonSchema', () => {
  it('is committed as schemas/program.schema.json (run vitest with -u to update the file)', async () => {
    const text = `${formatJson(programJsonSchema())}\n`;
    await expect(text).toMatchFileSnapshot('../../../../schemas/program.schema.json');
  });

  it('describes every field of the program for editors', () => {
    const undocumented: string[] = [];
    const walk = (schema: unknown, path: string): void => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (path !== '' && (typeof node.title !== 'string' || typeof node.description !== 'string')) {
        undocumented.push(path);
      }
      const properties = (node.properties ?? {}) as Record<string, unknown>;
      for (const [key, child] of Object.entries(properties)) walk(child, `${path}.${key}`);
      const items = node.items as Record<string, unknown> | undefined;
      if (items?.type === 'object') walk(items, `${path}[]`);
    };
    walk(programJsonSchema(), '');
    expect(undocumented).toEqual([]);
  });

  it('describes the input side: defaulted fields are optional, unknown fields refused', () => {
    const schema = programJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: { milestones: { items: { required: string[]; then: unknown } } };
    };
    expect(schema.required).toEqual(['key', 'name', 'phases', 'milestones']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.milestones.items.required).toEqual([
      'key',
      'title',
      'phase',
      'targetDay',
    ]);
    expect(schema.properties.milestones.items.then).toEqual({ required: ['criteria'] });
  });
});
