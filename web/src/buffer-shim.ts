// The Solana client libraries expect Node's `Buffer` as a global; the browser gets the
// `buffer` package's (injected before any module by scripts/web/build.ts).
import { Buffer } from "buffer";

(globalThis as { Buffer?: typeof Buffer }).Buffer ??= Buffer;
