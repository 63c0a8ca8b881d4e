// Program errors: codes mapped to names and messages from the IDL, and one parser for a
// failed transaction however it reached the caller — a JSON-RPC `err` value, a web3.js
// `SendTransactionError` or confirmation failure, an Anchor client error, or litesvm's
// `FailedTransactionMetadata` — into its code, name, message, instruction index and, where
// the program logged one, the account it refused.
import anchor from "@anchor-lang/core";

import idl from "./idl/xmargin.json" with { type: "json" };

export interface ProgramErrorInfo {
  code: number;
  name: string;
  msg?: string;
}

const byCode = new Map<number, ProgramErrorInfo>(
  (idl.errors as ProgramErrorInfo[]).map((e) => [e.code, e]),
);
const byName = new Map<string, ProgramErrorInfo>(
  (idl.errors as ProgramErrorInfo[]).map((e) => [e.name, e]),
);

/** The program error with this custom code, if the code belongs to xmargin. */
export function programError(code: number): ProgramErrorInfo | undefined {
  return byCode.get(code);
}

/** The custom code of a program error by its IDL name (e.g. "ExchangeAlreadyInitialized"). */
export function errorCode(name: string): number {
  const info = byName.get(name);
  if (!info) throw new Error(`unknown xmargin error name: ${name}`);
  return info.code;
}

/** The name of a custom error code raised in xmargin: its own (IDL) or Anchor's framework's. */
export function customErrorName(code: number): string | undefined {
  return byCode.get(code)?.name ?? anchorNames.get(code);
}

/** A failed transaction, parsed. */
export interface ParsedError {
  /** Who raised it: xmargin (its IDL errors), Anchor's framework checks in xmargin (account
   * constraints, deserialization: codes below 6000), another program, or the runtime. */
  source: "xmargin" | "anchor" | "program" | "runtime";
  /** The custom error code; undefined for a runtime error. */
  code?: number;
  /** The error's name: the IDL's ("OracleStale"), Anchor's ("ConstraintSeeds"), the runtime's
   * ("InsufficientFundsForFee", "InvalidAccountData"), or "Custom(n)" from another program. */
  name: string;
  message: string;
  /** The failing instruction's index in the transaction, when the error names one. */
  instructionIndex?: number;
  /** The account the program named: an oracle it refused, an account a constraint refused
   * (Anchor gives that one by its field name). */
  account?: string;
  /** The program that failed, from the logs (base58), when they say. */
  program?: string;
  logs: string[];
}

const PROGRAM_ID = idl.address;
const anchorNames = new Map<number, string>(
  Object.entries(anchor.LangErrorCode as Record<string, number>).map(([name, code]) => [code, name]),
);

/** litesvm's `InstructionErrorFieldless`, by value (its declaration is a `const enum`, so the
 * names are not in its JavaScript): Solana's `InstructionError` variants without fields. */
export const FIELDLESS_INSTRUCTION_ERRORS = [
  "GenericError", "InvalidArgument", "InvalidInstructionData", "InvalidAccountData", "AccountDataTooSmall",
  "InsufficientFunds", "IncorrectProgramId", "MissingRequiredSignature", "AccountAlreadyInitialized",
  "UninitializedAccount", "UnbalancedInstruction", "ModifiedProgramId", "ExternalAccountLamportSpend",
  "ExternalAccountDataModified", "ReadonlyLamportChange", "ReadonlyDataModified", "DuplicateAccountIndex", "ExecutableModified",
  "RentEpochModified", "NotEnoughAccountKeys", "AccountDataSizeChanged", "AccountNotExecutable",
  "AccountBorrowFailed", "AccountBorrowOutstanding", "DuplicateAccountOutOfSync", "InvalidError",
  "ExecutableDataModified", "ExecutableLamportChange", "ExecutableAccountNotRentExempt",
  "UnsupportedProgramId", "CallDepth", "MissingAccount", "ReentrancyNotAllowed", "MaxSeedLengthExceeded",
  "InvalidSeeds", "InvalidRealloc", "ComputationalBudgetExceeded", "PrivilegeEscalation",
  "ProgramEnvironmentSetupFailure", "ProgramFailedToComplete", "ProgramFailedToCompile", "Immutable",
  "IncorrectAuthority", "AccountNotRentExempt", "InvalidAccountOwner", "ArithmeticOverflow",
  "UnsupportedSysvar", "IllegalOwner", "MaxAccountsDataAllocationsExceeded", "MaxAccountsExceeded",
  "MaxInstructionTraceLengthExceeded", "BuiltinProgramsMustConsumeComputeUnits", "BorshIoError",
];

/** What the error value says before the logs are read. */
interface Core {
  code?: number;
  runtime?: string;
  instructionIndex?: number;
  logs: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const callable = <K extends string>(v: Record<string, unknown>, key: K): v is Record<string, unknown> & Record<K, () => unknown> =>
  typeof v[key] === "function";

/** A JSON-RPC `TransactionError` value: `{ InstructionError: [i, { Custom: n }] }`,
 * `{ InstructionError: [i, "InvalidAccountData"] }`, `"AccountNotFound"`, `{ InsufficientFundsForRent: {...} }`. */
function fromRpcError(err: unknown): Omit<Core, "logs"> | undefined {
  if (typeof err === "string") return { runtime: err };
  if (!isObject(err)) return undefined;
  const ix = err.InstructionError;
  if (Array.isArray(ix) && typeof ix[0] === "number") {
    const inner: unknown = ix[1];
    if (isObject(inner) && typeof inner.Custom === "number") return { code: inner.Custom, instructionIndex: ix[0] };
    if (typeof inner === "string") return { runtime: inner, instructionIndex: ix[0] };
    if (isObject(inner)) return { runtime: Object.keys(inner)[0] ?? "InstructionError", instructionIndex: ix[0] };
  }
  const [kind] = Object.keys(err);
  return kind ? { runtime: kind } : undefined;
}

/** litesvm's `TransactionErrorFieldless`, by value (a `const enum` too): Solana's
 * `TransactionError` variants without fields. */
export const FIELDLESS_TRANSACTION_ERRORS = [
  "AccountInUse", "AccountLoadedTwice", "AccountNotFound", "ProgramAccountNotFound", "InsufficientFundsForFee",
  "InvalidAccountForFee", "AlreadyProcessed", "BlockhashNotFound", "CallChainTooDeep", "MissingSignatureForFee",
  "InvalidAccountIndex", "SignatureFailure", "InvalidProgramForExecution", "SanitizeFailure", "ClusterMaintenance",
  "AccountBorrowOutstanding", "WouldExceedMaxBlockCostLimit", "UnsupportedVersion", "InvalidWritableAccount",
  "WouldExceedMaxAccountCostLimit", "WouldExceedAccountDataBlockLimit", "TooManyAccountLocks",
  "AddressLookupTableNotFound", "InvalidAddressLookupTableOwner", "InvalidAddressLookupTableData",
  "InvalidAddressLookupTableIndex", "InvalidRentPayingAccount", "WouldExceedMaxVoteCostLimit",
  "WouldExceedAccountDataTotalLimit", "MaxLoadedAccountsDataSizeExceeded", "ResanitizationNeeded",
  "InvalidLoadedAccountsDataSizeLimit", "UnbalancedTransaction", "ProgramCacheHitMaxLimit", "CommitCancelled",
];

/** litesvm's `FailedTransactionMetadata`, or its `err()`: classes, not JSON. Undefined for
 * anything else. */
function fromLitesvm(value: Record<string, unknown>): Core | undefined {
  let logs: string[] = [];
  let err: unknown = value;
  const failed = callable(value, "meta") && callable(value, "err");
  if (failed) {
    const meta = value.meta();
    if (isObject(meta) && callable(meta, "logs")) logs = meta.logs() as string[];
    err = value.err();
  }
  if (typeof err === "number" && failed) {
    return { runtime: FIELDLESS_TRANSACTION_ERRORS[err] ?? `TransactionError(${err})`, logs };
  }
  if (!isObject(err)) return undefined;
  if (typeof err.index === "number" && callable(err, "err")) {
    const inner = err.err();
    if (isObject(inner) && typeof inner.code === "number") return { code: inner.code, instructionIndex: err.index, logs };
    if (typeof inner === "number") {
      return { runtime: FIELDLESS_INSTRUCTION_ERRORS[inner] ?? `InstructionError(${inner})`, instructionIndex: err.index, logs };
    }
    return { runtime: String(inner), instructionIndex: err.index, logs };
  }
  // The other `TransactionError…` classes (`TransactionErrorInsufficientFundsForRent`, ...).
  const kind = err.constructor?.name ?? "";
  if (failed || kind.startsWith("TransactionError")) return { runtime: kind.replace(/^TransactionError/, "") || "TransactionError", logs };
  return undefined;
}

/** An `Error` whose text carries the failure: web3.js's "Error processing Instruction 2:
 * custom program error: 0x1771" or a confirmation's `{"err":{"InstructionError":[...]}}`. */
function fromMessage(message: string, logs: string[]): Core | undefined {
  const custom = /Error processing Instruction (\d+): custom program error: 0x([0-9a-fA-F]+)/.exec(message);
  if (custom?.[1] && custom[2]) return { code: parseInt(custom[2], 16), instructionIndex: Number(custom[1]), logs };
  const other = /Error processing Instruction (\d+): ([^.\n]+)/.exec(message);
  if (other?.[1] && other[2]) return { runtime: other[2].trim(), instructionIndex: Number(other[1]), logs };
  const json = /\{"err":(.+)\}\)?\s*$/.exec(message) ?? /"InstructionError":\[.*?\]\]?\}?/.exec(message);
  if (json) {
    try {
      const raw = json[1] !== undefined ? (JSON.parse(json[1]) as unknown) : (JSON.parse(`{${json[0]}`) as unknown);
      const parsed = fromRpcError(raw);
      if (parsed) return { ...parsed, logs };
    } catch {
      // Not JSON after all: fall through.
    }
  }
  return undefined;
}

/** A JSON-RPC `TransactionError` with fields (`{ InsufficientFundsForRent: { account_index } }`):
 * one key, a variant the runtime has. Any other one-key object is not a transaction error. */
function isTransactionErrorVariant(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  const variants = ["DuplicateInstruction", "InsufficientFundsForRent", "ProgramExecutionTemporarilyRestricted", ...FIELDLESS_TRANSACTION_ERRORS];
  return keys.length === 1 && variants.includes(keys[0] ?? "");
}

function core(error: unknown, logs: string[]): Core | undefined {
  if (!isObject(error) && typeof error !== "string") return undefined;
  if (isObject(error)) {
    // Anchor's client errors (AnchorError, ProgramError) carry the code and the logs.
    const anchorCode = isObject(error.error) && isObject(error.error.errorCode) ? error.error.errorCode.number : undefined;
    const ownLogs = Array.isArray(error.logs) ? (error.logs as string[]) : logs;
    if (typeof anchorCode === "number") return { code: anchorCode, logs: ownLogs };
    const litesvm = fromLitesvm(error);
    if (litesvm && (litesvm.code !== undefined || litesvm.instructionIndex !== undefined)) {
      return { ...litesvm, logs: litesvm.logs.length ? litesvm.logs : logs };
    }
    // web3.js: `SendTransactionError` (message + logs), or a confirmation's message.
    const sendLogs = Array.isArray(error.transactionLogs) ? (error.transactionLogs as string[]) : ownLogs;
    const message = typeof error.transactionMessage === "string" ? error.transactionMessage : error instanceof Error ? error.message : undefined;
    if (message !== undefined) {
      const m = fromMessage(message, sendLogs);
      if (m) return m;
    }
    if ("InstructionError" in error || isTransactionErrorVariant(error)) {
      const rpc = fromRpcError(error);
      if (rpc) return { ...rpc, logs };
    }
    if (isObject(error.err)) {
      const rpc = fromRpcError(error.err);
      if (rpc) return { ...rpc, logs: ownLogs };
    }
    return litesvm;
  }
  const rpc = fromRpcError(error);
  return rpc ? { ...rpc, logs } : undefined;
}

/** The account the logs name: an oracle the program refused ("oracle account refused: KEY",
 * "oracle of collateral 2 (KEY) failed"), or Anchor's "caused by account: NAME". */
function accountFromLogs(logs: string[]): string | undefined {
  for (let i = logs.length - 1; i >= 0; i--) {
    const line = logs[i] ?? "";
    const oracle = /oracle of (?:collateral|underlying) \d+ \(([1-9A-HJ-NP-Za-km-z]{32,44})\) failed/.exec(line);
    if (oracle?.[1]) return oracle[1];
    const refused = /oracle account refused: ([1-9A-HJ-NP-Za-km-z]{32,44})/.exec(line);
    if (refused?.[1]) return refused[1];
    const anchorAccount = /AnchorError caused by account: (\w+)\./.exec(line);
    if (anchorAccount?.[1]) return anchorAccount[1];
  }
  return undefined;
}

/** The program that raised the error: the innermost "Program KEY failed" line (a failure in
 * a CPI is reported again by every caller up the stack; the code is the innermost's). */
function failedProgram(logs: string[]): string | undefined {
  for (const line of logs) {
    const m = /^Program ([1-9A-HJ-NP-Za-km-z]{32,44}) failed/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/**
 * A failed transaction's error, from whatever the caller caught or received: a JSON-RPC
 * `err` value (with the simulation's `logs` if you have them), a web3.js error, an Anchor
 * client error, or litesvm's `FailedTransactionMetadata`. Undefined when `error` is not a
 * transaction failure (a network error, say). `programId`: the xmargin deployment (another
 * program's codes are never read as xmargin's). Without logs, a custom code is read as the
 * deployment's when it is one of its codes: pass the logs when you have them.
 */
export function parseError(error: unknown, logs: readonly string[] = [], programId: string | { toBase58(): string } = PROGRAM_ID): ParsedError | undefined {
  const c = core(error, [...logs]);
  if (!c) return undefined;
  const program = failedProgram(c.logs);
  const account = accountFromLogs(c.logs);
  const base = { instructionIndex: c.instructionIndex, account, program, logs: c.logs };
  if (c.code === undefined) {
    const name = c.runtime ?? "UnknownError";
    return { source: "runtime", name, message: name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase(), ...base };
  }
  const id = typeof programId === "string" ? programId : programId.toBase58();
  const ours = program === undefined || program === id;
  const info = ours ? programError(c.code) : undefined;
  if (info) return { source: "xmargin", code: c.code, name: info.name, message: info.msg ?? info.name, ...base };
  const framework = ours ? anchorNames.get(c.code) : undefined;
  if (framework) {
    const message = (anchor.LangErrorMessage as Map<number, string>).get(c.code) ?? framework;
    return { source: "anchor", code: c.code, name: framework, message, ...base };
  }
  return { source: "program", code: c.code, name: `Custom(${c.code})`, message: `custom program error ${c.code}`, ...base };
}
