/** Exit codes CI reads (DESIGN.md). Kept apart from the commands so `--help` loads nothing else. */
export const EXIT = { ok: 0, invalid: 1, deny: 2, warnFailed: 3, gateFailed: 4, usage: 64 } as const;

/** Output formats of `sloguard gate`. */
export const GATE_FORMATS = ['text', 'json', 'markdown', 'github'] as const;

/** Output formats of `sloguard incidents` and `sloguard report`. */
export const INCIDENT_FORMATS = ['table', 'json'] as const;
export const REPORT_FORMATS = ['table', 'json', 'markdown'] as const;
