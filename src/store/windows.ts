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
