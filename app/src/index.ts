export * from "./client.js";
export * from "./errors.js";
export * from "./governance.js";
export * from "./health.js";
export * from "./pda.js";
export * from "./state.js";
export type { Xmargin } from "./idl/xmargin.js";
export * from "./trading.js";
