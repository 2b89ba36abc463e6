/** A small deterministic PRNG (mulberry32) for property tests: a failing run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seeded PRNG with the helpers generated-input tests use (fuzzing, the hostile-input suite). */
export function randomTools(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const hex = (chars: number) => Array.from({ length: chars }, () => '0123456789abcdef'[int(16)]).join('');
  return { next, int, pick, hex };
}
export type RandomTools = ReturnType<typeof randomTools>;
