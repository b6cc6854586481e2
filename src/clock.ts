/** The source of "now". Injected everywhere time matters so expiry and review dates are testable. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** A clock tests can move: `clock.set(...)`, `clock.advance(ms)`. */
export function fixedClock(start: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let now = new Date(start).getTime();
  const clock = (() => new Date(now)) as Clock & { set(at: Date | string): void; advance(ms: number): void };
  clock.set = (at) => {
    now = new Date(at).getTime();
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}
