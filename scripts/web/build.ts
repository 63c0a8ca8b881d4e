// Builds the risk page (web/) into target/web: the TypeScript bundled for the browser by
// esbuild, the example books inlined (one click away), the engine module beside the page.
// `make web` runs this and then serves the folder; tests/web.test.ts does the same.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

import { build } from "esbuild";

export const ROOT = join(import.meta.dirname, "..", "..");
export const OUT = join(ROOT, "target", "web");
const WASM = join(ROOT, "app", "wasm", "xmargin_engine.wasm");
const BOOKS = join(ROOT, "examples", "books");

/** The example books as a module: `EXAMPLES[name]` is the file's text. */
function examplesModule(): string {
  const entries = readdirSync(BOOKS)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f.replace(/\.json$/, ""), readFileSync(join(BOOKS, f), "utf8")] as const);
  return `export const EXAMPLES = ${JSON.stringify(Object.fromEntries(entries))};`;
}

export async function buildWeb(): Promise<string> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await build({
    entryPoints: [join(ROOT, "web", "src", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The live-portfolio view (Solana client libraries) is its own chunk, loaded on demand.
    splitting: true,
    outdir: OUT,
    inject: [join(ROOT, "web", "src", "buffer-shim.ts")],
    define: { "process.env.NODE_DEBUG": "false", "process.env.NODE_ENV": '"production"' },
    sourcemap: true,
    logLevel: "warning",
    plugins: [
      {
        // The client's `import anchor from "@anchor-lang/core"` (a CommonJS default in Node).
        name: "anchor-default",
        setup(b) {
          b.onResolve({ filter: /^@anchor-lang\/core$/ }, () => ({ path: join(ROOT, "web", "src", "anchor-shim.ts") }));
        },
      },
      {
        name: "examples",
        setup(b) {
          b.onResolve({ filter: /^\.\/examples\.js$/ }, () => ({ path: "examples", namespace: "examples" }));
          b.onLoad({ filter: /.*/, namespace: "examples" }, () => ({ contents: examplesModule(), loader: "js" }));
        },
      },
    ],
  });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(ROOT, "web", f), join(OUT, f));
  copyFileSync(WASM, join(OUT, "xmargin_engine.wasm"));
  return OUT;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`built ${await buildWeb()}`);
}
