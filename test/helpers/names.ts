/** `i` in letters (a, b, ..., z, ba, ...): distinct route segments the normaliser keeps as they are, not `:id`. */
export function letters(i: number): string {
  let text = '';
  let n = i;
  do {
    text = String.fromCharCode(97 + (n % 26)) + text;
    n = Math.floor(n / 26);
  } while (n > 0);
  return text;
}
