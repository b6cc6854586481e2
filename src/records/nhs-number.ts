/**
 * NHS numbers: 10 digits, the last a modulus-11 check digit over the first nine (NHS Data
 * Dictionary, "NHS Number"). Validation here is what keeps mistyped numbers from creating
 * subjects that merge two people's records or split one person's.
 */

const tenDigits = /^[0-9]{10}$/;
const nineDigits = /^[0-9]{9}$/;

/**
 * The check digit for the first nine digits of an NHS number, or `undefined` when none exists
 * (a remainder that gives 10: such nine-digit stems are never issued).
 */
export function nhsNumberCheckDigit(firstNine: string): number | undefined {
  if (!nineDigits.test(firstNine)) throw new TypeError('nhsNumberCheckDigit takes exactly nine digits');
  let sum = 0;
  for (let i = 0; i < 9; i += 1) sum += (firstNine.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

/** True for exactly ten ASCII digits whose last digit is the modulus-11 check digit of the first nine. No spaces. */
export function isValidNhsNumber(value: string): boolean {
  if (typeof value !== 'string' || !tenDigits.test(value)) return false;
  const check = nhsNumberCheckDigit(value.slice(0, 9));
  return check !== undefined && check === value.charCodeAt(9) - 48;
}
