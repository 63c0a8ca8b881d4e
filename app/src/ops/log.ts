// JSON-lines logs for the services: one object per line ({ time, level, service, msg, ...
// fields }), values a log pipeline can index — bigints and exact numbers as strings, keys as
// base58 — never `[object Object]`.
import { PublicKey } from "@solana/web3.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** A value as JSON can carry it: bigint and objects with a meaningful `toString` (PublicKey,
 * `Fx`) as strings, errors as their message. */
function plain(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof PublicKey) return value.toBase58();
  if (value instanceof Error) return value.message;
  return value;
}

/** A logger writing JSON lines to `write` (stdout by default) at `level` and above. */
export function jsonLogger(service: string, level: LogLevel = "info", write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const at = (lvl: LogLevel) => (msg: string, fields: Fields = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, service, msg, ...fields }, plain));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that keeps its lines (tests, and a dry run's report). */
export function memoryLogger(service: string, level: LogLevel = "debug"): Logger & { lines: Fields[] } {
  const lines: Fields[] = [];
  const logger = jsonLogger(service, level, (l) => lines.push(JSON.parse(l) as Fields));
  return Object.assign(logger, { lines });
}
