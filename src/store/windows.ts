/** Which stored rows make up a window, in epoch minutes [fromMinute, toMinute). Pure. */
export interface WindowPlan {
  minuteRanges: Array<[number, number]>;
  hourRange: [number, number] | undefined;
  /** Where the window really starts: earlier than asked when minute data there has aged out. */
  effectiveFromMinute: number;
}

/**
 * Whole hours come from hour rollups, the ragged edges from minute rows. When the left edge is older than
 * the oldest minute row kept, the window starts at that hour's beginning instead (documented: long windows
 * are aligned to the hour at their far end).
 */
export function planWindow(fromMinute: number, toMinute: number, oldestMinuteKept: number): WindowPlan {
  const firstWholeHour = Math.ceil(fromMinute / 60);
  const endWholeHour = Math.floor(toMinute / 60);
  if (firstWholeHour >= endWholeHour) {
    return { minuteRanges: [[fromMinute, toMinute]], hourRange: undefined, effectiveFromMinute: fromMinute };
  }
  const minuteRanges: Array<[number, number]> = [];
  let hourStart = firstWholeHour;
  let effectiveFromMinute = fromMinute;
  if (fromMinute < firstWholeHour * 60) {
    if (fromMinute >= oldestMinuteKept) minuteRanges.push([fromMinute, firstWholeHour * 60]);
    else {
      hourStart = firstWholeHour - 1;
      effectiveFromMinute = hourStart * 60;
    }
  }
  if (endWholeHour * 60 < toMinute) minuteRanges.push([endWholeHour * 60, toMinute]);
  return { minuteRanges, hourRange: [hourStart, endWholeHour], effectiveFromMinute };
}

/** How many plans WindowPlans keeps: the SLO window and the burn-rate windows of a few window lengths. */
const PLANS_KEPT = 32;

/**
 * The plans of the windows last asked for, made once each: a tick reads the same windows (to the same minute)
 * for every SLO. Plans are shared, never changed; the oldest is replaced when more are asked for.
 */
export class WindowPlans {
  private readonly keys = new Float64Array(PLANS_KEPT * 3).fill(Number.NaN);
  private readonly plans: WindowPlan[] = [];
  private next = 0;

  plan(fromMinute: number, toMinute: number, oldestMinuteKept: number): WindowPlan {
    const keys = this.keys;
    for (let i = 0; i < this.plans.length; i++) {
      if (keys[i * 3] === fromMinute && keys[i * 3 + 1] === toMinute && keys[i * 3 + 2] === oldestMinuteKept)
        return this.plans[i]!;
    }
    const plan = planWindow(fromMinute, toMinute, oldestMinuteKept);
    const at = this.next;
    this.next = (at + 1) % PLANS_KEPT;
    keys[at * 3] = fromMinute;
    keys[at * 3 + 1] = toMinute;
    keys[at * 3 + 2] = oldestMinuteKept;
    this.plans[at] = plan;
    return plan;
  }
}
