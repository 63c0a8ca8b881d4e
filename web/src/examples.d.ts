// Filled in at build time (scripts/web/build.ts): every example book's text by name.
export declare const EXAMPLES: Record<string, string>;
