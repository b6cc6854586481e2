import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsNumberCheckDigit } from '../../src/records/nhs-number.js';

describe('isValidNhsNumber', () => {
  it.each([
    ['9434765919', 'the NHS Digital example number'],
    ['4010232137', 'another issued-style number'],
    ['0000000000', 'all zeros: sum 0, check 11 -> 0'],
    ['9990000018', 'sum whose check digit is 8'],
  ])('accepts %s (%s)', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it.each([
    ['9434765918', 'wrong check digit'],
    ['9434765910', 'wrong check digit (0)'],
    ['943476591', 'nine digits'],
    ['94347659190', 'eleven digits'],
    ['943 476 5919', 'spaces'],
    [' 9434765919', 'leading space'],
    ['9434765919\n', 'trailing newline'],
    ['943-476-5919', 'dashes'],
    ['94347659l9', 'a letter'],
    ['abcdefghij', 'letters'],
    ['９４３４７６５９１９', 'full-width digits'],
    ['', 'empty'],
    ['1000000010', 'stem whose check digit would be 10'],
  ])('refuses %j (%s)', (value) => {
    expect(isValidNhsNumber(value)).toBe(false);
  });

  it('refuses non-strings without throwing', () => {
    expect(isValidNhsNumber(9434765919 as unknown as string)).toBe(false);
    expect(isValidNhsNumber(undefined as unknown as string)).toBe(false);
  });
});

describe('nhsNumberCheckDigit', () => {
  it.each([
    ['943476591', 9],
    ['000000000', 0],
    ['100000001', undefined],
  ])('of %s is %s', (stem, digit) => {
    expect(nhsNumberCheckDigit(stem)).toBe(digit);
  });

  it('agrees with isValidNhsNumber for every check digit of a stem', () => {
    for (const stem of ['943476591', '401023213', '123456789', '555555555']) {
      const check = nhsNumberCheckDigit(stem);
      for (let d = 0; d <= 9; d += 1) expect(isValidNhsNumber(`${stem}${d}`)).toBe(d === check);
    }
  });

  it('throws a TypeError for a stem that is not nine digits', () => {
    expect(() => nhsNumberCheckDigit('12345678')).toThrow(TypeError);
  });
});
