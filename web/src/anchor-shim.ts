// Anchor's browser build has named exports only; the client (written for Node, where the
// package is CommonJS) imports its default. The web build points `@anchor-lang/core` here.
// @ts-expect-error the browser build's path has no declarations of its own
import * as anchor from "@anchor-lang/core/dist/browser/index.js";

export default anchor;
