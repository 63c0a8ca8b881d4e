// What the package's command-line entry points share.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the program Node was started
 * with: `node dist/liquidator.js`, `npx tsx app/src/liquidator.ts`, or an installed bin, which
 * npm links from `node_modules/.bin` (Node resolves the link for `import.meta.url` but not
 * for `process.argv[1]`, so both are compared as real paths).
 */
export function isMain(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return pathToFileURL(realpathSync(started)).href === moduleUrl;
  } catch {
    return false;
  }
}
