import { describe, expect, it } from 'vitest';
import {
  CRITERIA_FUNCTIONS,
  CRITERIA_VARIABLES,
  criteriaEnvironment,
  criteriaFunctionNames,
} from './functions.js';

describe('the criteria language', () => {
  it('declares exactly the documented functions and variables', () => {
    const definitions = criteriaEnvironment.getDefinitions();
    const ours = definitions.functions
      .filter((f) => f.name === 'event_count' || f.name === 'active_users')
      .map((f) => f.signature);
    expect(ours.sort()).toEqual(CRITERIA_FUNCTIONS.map((f) => f.signature).sort());
    for (const variable of CRITERIA_VARIABLES) {
      expect(criteriaEnvironment.hasVariable(variable.name)).toBe(true);
    }
    expect(criteriaFunctionNames.has('event_count')).toBe(true);
    expect(criteriaFunctionNames.has('size')).toBe(true);
    expect(criteriaFunctionNames.has('logins')).toBe(false);
  });

  it('answers its functions only inside evaluateCriteria', () => {
    expect(() => criteriaEnvironment.evaluate('event_count("a") > 0', { traits: {} })).toThrow(
      /only answered inside evaluateCriteria/,
    );
  });
});
