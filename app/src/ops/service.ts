// The services' run loop: one step per interval until stopped, a graceful stop on SIGINT or
// SIGTERM (the step in progress finishes; nothing is cut off mid-transaction), and
// exponential backoff with jitter when a step fails (an RPC node down or rate-limiting).
import type { Logger } from "./log.js";

export interface LoopOptions {
  /** Pause between steps, ms. */
  intervalMs: number;
  /** Backoff after a failed step: first pause and cap, ms (doubling in between). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Stops the loop (after the step in progress). */
  signal: AbortSignal;
  log: Logger;
  /** Called with each failure (metrics). */
  onError?: (e: unknown) => void;
  /** Stop after this many steps (tests, `--rounds`); unlimited by default. */
  maxSteps?: number;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The pause after `failures` consecutive failures: base·2^(n−1), capped, ±20% jitter. */
export function backoff(failures: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Runs `step` until `signal` aborts; returns the number of steps run. */
export async function runLoop(step: () => Promise<void>, o: LoopOptions): Promise<number> {
  let failures = 0;
  let steps = 0;
  while (!o.signal.aborted && (o.maxSteps === undefined || steps < o.maxSteps)) {
    steps += 1;
    try {
      await step();
      failures = 0;
      await sleep(o.intervalMs, o.signal);
    } catch (e) {
      failures += 1;
      o.onError?.(e);
      const pause = backoff(failures, o.backoffMs ?? 1_000, o.maxBackoffMs ?? 60_000);
      o.log.warn("step failed; backing off", { error: e instanceof Error ? e.message : String(e), failures, pauseMs: pause });
      await sleep(pause, o.signal);
    }
  }
  return steps;
}

/** An AbortController that SIGINT and SIGTERM abort (logged once), for a service's `main`. */
export function stopOnSignals(log: Logger): AbortController {
  const controller = new AbortController();
  const stop = (signal: string) => {
    if (controller.signal.aborted) return;
    log.info("stopping: finishing the step in progress", { signal });
    controller.abort();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return controller;
}
