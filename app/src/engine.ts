// The program's own health computation, in WebAssembly (crates/wasm): `refresh_health`'s
// account validation and handler, compiled from the program's source, run on account bytes
// the caller fetched. Its numbers are the chain's, bit for bit (tests/engine.test.ts compares
// them with simulated `refresh_health` on random books); no risk math is written in TS.
//
// The module is plain WebAssembly with a C ABI (crates/wasm/src/lib.rs documents the framing),
// loaded by wasm.ts the same way in Node and in a browser.
import { PublicKey, SYSVAR_CLOCK_PUBKEY } from "@solana/web3.js";

import type { XmarginClient } from "./client.js";
import { customErrorName } from "./errors.js";
import type { PortfolioHealth } from "./health.js";
import { Fx } from "./values.js";
import { EngineModule, TAG } from "./wasm.js";

import idl from "./idl/xmargin.json" with { type: "json" };

export { ENGINE_WASM_URL } from "./wasm.js";

/** The program the engine was built from (this checkout's `declare_id!`, as its IDL says):
 * it refuses any other program id (`DeclaredProgramIdMismatch`), as the program's dispatcher
 * does. A deployment at another address runs its own build. */
export const ENGINE_PROGRAM_ID = new PublicKey(idl.address);

/** An account as the chain serves it (what `getMultipleAccountsInfo` returns, with its address). */
export interface RawAccount {
  address: PublicKey;
  owner: PublicKey;
  lamports: bigint | number;
  executable: boolean;
  data: Uint8Array;
}

/** An account as web3.js returns it (`getAccountInfo`, `getMultipleAccountsInfo`,
 * `getProgramAccounts`), with its address. */
export function rawAccount(address: PublicKey, info: { owner: PublicKey; lamports: number; executable: boolean; data: Uint8Array }): RawAccount {
  return { address, owner: info.owner, lamports: info.lamports, executable: info.executable, data: new Uint8Array(info.data) };
}

/** The program refused to compute (as `refresh_health` would fail on chain): its error. */
export class EngineRefusal extends Error {
  constructor(
    /** The `ProgramError` code: a custom code (xmargin's are 6000 + index, Anchor's below
     * 6000), or a runtime error's encoding. */
    readonly code: bigint,
    /** The error's name: the IDL's (`MarksTooOld`), Anchor's, or the runtime's
     * (`InvalidAccountOwner`). */
    readonly errorName: string,
  ) {
    super(`refresh_health refused: ${errorName}`);
    this.name = "EngineRefusal";
  }
}

const MAGIC = new TextEncoder().encode("XMH1");
const VIEW_FIELDS = [
  "equity",
  "initialHealth",
  "maintenanceHealth",
  "initialRequirement",
  "maintenanceRequirement",
  "initialOffsetCredit",
  "maintenanceOffsetCredit",
] as const;

/** The engine: one WebAssembly instance. Calls are synchronous and cheap (~0.15 ms for a
 * small book); one instance serves any number of portfolios. Bit for bit the program's
 * numbers for the same accounts and clock; what it does not model is a transaction's compute
 * and heap limits (a book too large to value on chain is valued here). */
export class HealthEngine {
  private constructor(readonly module: EngineModule) {}

  /** Loads the module: from `source` (bytes, or a URL to read or fetch), else from the
   * package's own `wasm/xmargin_engine.wasm`. */
  static async load(source?: Uint8Array | URL | string): Promise<HealthEngine> {
    return new HealthEngine(await EngineModule.load(source));
  }

  /** Over a module already loaded (the web page's, which also runs the risk calculator). */
  static of(module: EngineModule): HealthEngine {
    return new HealthEngine(module);
  }

  /**
   * `refresh_health` on these accounts: `accounts` are, in order, the exchange, the registry,
   * the portfolio and its remaining accounts (as `refreshHealthIx` lists them); `clock` is
   * the Clock sysvar's data. Returns the program's numbers; throws `EngineRefusal` with the
   * program's error when it refuses (stale marks, a wrong account, ...).
   */
  async refreshHealth(programId: PublicKey, clock: Uint8Array, accounts: RawAccount[]): Promise<PortfolioHealth> {
    if (clock.length !== 40) throw new Error(`the Clock sysvar has ${clock.length} bytes, 40 expected`);
    const { tag, body } = this.module.call("xm_refresh_health", frame(programId, clock, accounts));
    if (tag === TAG.ok) {
      if (body.length !== VIEW_FIELDS.length * 16) throw new Error(`xmargin engine: a health view of ${body.length} bytes`);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const health: Partial<PortfolioHealth> = {};
      VIEW_FIELDS.forEach((field, i) => {
        const lo = view.getBigUint64(i * 16, true);
        const hi = view.getBigInt64(i * 16 + 8, true);
        health[field] = Fx.fromBits((hi << 64n) | lo);
      });
      return health as PortfolioHealth;
    }
    if (tag === TAG.programError) {
      const code = new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0, true);
      const runtimeName = new TextDecoder().decode(body.subarray(8));
      const custom = Number(code);
      throw new EngineRefusal(code, runtimeName || customErrorName(custom) || `Custom(${custom})`);
    }
    throw new Error(`xmargin engine: ${new TextDecoder().decode(body)}`);
  }
}

function frame(programId: PublicKey, clock: Uint8Array, accounts: RawAccount[]): Uint8Array {
  const size = 4 + 32 + 40 + 4 + accounts.reduce((n, a) => n + 32 + 32 + 8 + 1 + 4 + a.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put(MAGIC);
  put(programId.toBytes());
  put(clock);
  view.setUint32(at, accounts.length, true);
  at += 4;
  for (const a of accounts) {
    put(a.address.toBytes());
    put(a.owner.toBytes());
    view.setBigUint64(at, BigInt(a.lamports), true);
    at += 8;
    out[at++] = a.executable ? 1 : 0;
    view.setUint32(at, a.data.length, true);
    at += 4;
    put(a.data);
  }
  return out;
}

/** Reads accounts by address (`null` for a missing one), e.g. `Chain.accounts`. */
export type AccountReader = (addresses: PublicKey[]) => Promise<(RawAccount | null)[]>;

/**
 * A portfolio's health computed locally, exactly as `refresh_health` would return it now:
 * reads the exchange, the registry, the portfolio, `healthAccounts` (its remaining accounts,
 * e.g. `oracleAccounts` then `underlyingAccounts`) and the Clock sysvar through `read`, and
 * runs the program's handler on them. A missing account is an error naming it.
 */
export async function computeHealth(
  engine: HealthEngine,
  client: XmarginClient,
  read: AccountReader,
  portfolio: PublicKey,
  healthAccounts: PublicKey[],
): Promise<PortfolioHealth> {
  const keys = [SYSVAR_CLOCK_PUBKEY, client.exchange, client.registry, portfolio, ...healthAccounts];
  const found = await read(keys);
  const accounts = found.map((a, i) => {
    if (!a) throw new Error(`account ${keys[i]!.toBase58()} does not exist`);
    return a;
  });
  const [clock, ...rest] = accounts;
  return engine.refreshHealth(client.programId, clock!.data, rest);
}
