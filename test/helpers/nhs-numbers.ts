import { nhsNumberCheckDigit } from '../../src/records/nhs-number.js';

/** `count` distinct valid NHS numbers, the same ones on every call with the same `start`. */
export function validNhsNumbers(count: number, start = 400_000_000): string[] {
  const numbers: string[] = [];
  for (let stem = start; numbers.length < count; stem += 1) {
    const stemText = String(stem).padStart(9, '0');
    const check = nhsNumberCheckDigit(stemText);
    if (check !== undefined) numbers.push(`${stemText}${check}`);
  }
  return numbers;
}
