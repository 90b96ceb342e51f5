import { basename } from 'node:path';
import pino, { type Logger } from 'pino';

/** MidoNet's (logback's) level names, as mn-conf's `*.loggers.root` holds them, to pino's. */
const LEVELS: Record<string, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', FATAL: 'fatal' };

/** A level as an operator writes it (`debug`, `DEBUG`), or null for none. */
export function levelOf(name: unknown): pino.Level | null {
  return typeof name === 'string' ? (LEVELS[name.toUpperCase()] ?? null) : null;
}

const root = pino({
  base: { name: basename(process.argv[1] ?? 'midonet').replace(/\.[jt]s$/, '') },
  level: levelOf(process.env.MIDONET_LOG_LEVEL) ?? 'info',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});
const children = new Set<Logger>();

/** A component's logger: JSON lines on standard output, one level for the whole process. */
export function log(component: string): Logger {
  const child = root.child({ component });
  children.add(child);
  return child;
}

/** Sets the level of every logger of the process (`--log-level`, then mn-conf as it changes). */
export function setLogLevel(level: pino.Level): void {
  if (root.level === level) return;
  root.level = level;
  for (const c of children) c.level = level;
}

/**
 * Says the same thing at most once per `everyMs` for each key (a storm of drops or failures
 * becomes one line with how many there were).
 */
export function rateLimited(logger: Logger, level: 'info' | 'warn' = 'warn', everyMs = 10_000): (key: string, fields: Record<string, unknown>, message: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key, fields, message) => {
    const now = Date.now();
    const e = last.get(key);
    if (e && now - e.at < everyMs) {
      e.suppressed++;
      return;
    }
    logger[level]({ ...fields, ...(e?.suppressed ? { suppressed: e.suppressed } : {}) }, message);
    last.set(key, { at: now, suppressed: 0 });
  };
}
