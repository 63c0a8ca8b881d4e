// The engine module (crates/wasm) loaded and called: plain WebAssembly with a C ABI, the
// same in Node and in a browser, with no Solana dependency (the web page bundles this file
// alone). Two calls: the program's `refresh_health` (used by engine.ts) and the risk
// calculator — a book in the `xmargin risk margin` JSON schema to the very report `xmargin
// risk margin --json` prints (`riskMargin`).

/** The report of `xmargin risk margin --json` (crates/book, docs/risk-model.md): plain JSON. */
export type MarginReport = Record<string, unknown>;

/** A book the engine refused: the message is the CLI's, naming the field
 * (`positions[2].kind: unknown kind "fut" ...`). */
export class BookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BookError";
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  xm_alloc(len: number): number;
  xm_free(ptr: number, len: number): void;
  xm_refresh_health(ptr: number, len: number): number;
  xm_risk_margin(ptr: number, len: number): number;
}

/** Where the package keeps the module: `wasm/` beside `src/` and `dist/`. */
export const ENGINE_WASM_URL = new URL("../wasm/xmargin_engine.wasm", import.meta.url);

/** Output tags (crates/wasm/src/lib.rs). */
export const TAG = { ok: 0, programError: 1, badInput: 2, bookError: 3 } as const;

/** One instance of the engine module. Calls are synchronous. */
export class EngineModule {
  private exports: Exports;

  private constructor(private readonly module: WebAssembly.Module) {
    this.exports = EngineModule.instantiate(module);
  }

  /** Loads the module: from `source` (bytes, or a URL to read or fetch), else from the
   * package's own `wasm/xmargin_engine.wasm`. */
  static async load(source: Uint8Array | URL | string = ENGINE_WASM_URL): Promise<EngineModule> {
    const bytes = source instanceof Uint8Array ? source : await readBytes(typeof source === "string" ? new URL(source) : source);
    return new EngineModule(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
  }

  /** The module's imports are those of crates it links for other targets' sake (the zk-token
   * SDK's JS bindings, a JS random source): none lies on the paths called here. Each is given
   * a function that throws, so a call would be an error, never a silent value. */
  private static instantiate(module: WebAssembly.Module): Exports {
    const imports: Record<string, Record<string, () => never>> = {};
    for (const i of WebAssembly.Module.imports(module)) {
      if (i.kind !== "function") throw new Error(`xmargin engine: unexpected ${i.kind} import ${i.module}.${i.name}`);
      (imports[i.module] ??= {})[i.name] = () => {
        throw new Error(`xmargin engine: host import ${i.module}.${i.name} is not provided`);
      };
    }
    return new WebAssembly.Instance(module, imports).exports as unknown as Exports;
  }

  /** Calls an export on `input`; returns the tag and the body. A trap leaves the instance's
   * state undefined: the next call gets a fresh one. */
  call(name: "xm_refresh_health" | "xm_risk_margin", input: Uint8Array): { tag: number; body: Uint8Array } {
    try {
      const e = this.exports;
      const ptr = e.xm_alloc(input.length);
      new Uint8Array(e.memory.buffer, ptr, input.length).set(input);
      const out = e[name](ptr, input.length);
      const len = new DataView(e.memory.buffer).getUint32(out, true);
      const copy = new Uint8Array(e.memory.buffer, out + 4, len).slice();
      e.xm_free(out, len + 4);
      return { tag: copy[0]!, body: copy.subarray(1) };
    } catch (err) {
      this.exports = EngineModule.instantiate(this.module);
      throw err;
    }
  }

  /**
   * `xmargin risk margin --json` of a book: the same engine and the same code path
   * (crates/book), so the same numbers. `now` (unix seconds) is the valuation time when the
   * book has none. Throws `BookError` with the CLI's message for a book it refuses.
   */
  riskMargin(bookText: string, now: number): MarginReport {
    const text = new TextEncoder().encode(bookText);
    const input = new Uint8Array(8 + text.length);
    new DataView(input.buffer).setBigInt64(0, BigInt(Math.trunc(now)), true);
    input.set(text, 8);
    const { tag, body } = this.call("xm_risk_margin", input);
    const decoded = new TextDecoder().decode(body);
    if (tag === TAG.ok) return JSON.parse(decoded) as MarginReport;
    if (tag === TAG.bookError) throw new BookError(decoded);
    throw new Error(`xmargin engine: ${decoded}`);
  }
}

/** The module's bytes: a file URL read from disk (Node), any other fetched. */
async function readBytes(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    // Through a variable: a browser bundle must not try to resolve Node's module.
    const fs = "node:fs/promises";
    const { readFile } = (await import(fs)) as { readFile(path: URL): Promise<Uint8Array> };
    return new Uint8Array(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`xmargin engine: ${url.href}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
