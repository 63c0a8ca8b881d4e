// The client's values on the compiled .so: exact numbers (I80F48 and native amounts as
// decimal strings and bigints), every account and event decoded by the IDL-driven decoders
// with coded fields by name, and one error parser for litesvm, JSON-RPC, web3.js and Anchor
// failures, with the instruction index and the account the program named.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ComputeBudgetProgram, PublicKey, SendTransactionError } from "@solana/web3.js";
import { FailedTransactionMetadata } from "litesvm";

import { readFileSync } from "node:fs";
import { join } from "node:path";

import {
  FIELDLESS_INSTRUCTION_ERRORS,
  FIELDLESS_TRANSACTION_ERRORS,
  Fx,
  PERP_INSTRUMENT,
  PauseFlag,
  ValueError,
  bpsToPercent,
  decodeAccount,
  decodeEvents,
  decodeMarket,
  decodePortfolioAccount,
  decodeRiskChange,
  errorCode,
  identifyAccount,
  marginBudgetIxs,
  marginScale,
  marketPda,
  nativeToUi,
  parseError,
  riskChangePda,
  tradeIx,
  uiToNative,
  type AccountName,
} from "../app/src/index.js";
import idl from "../app/src/idl/xmargin.json" with { type: "json" };
import { ROOT } from "./harness.js";
import { DAY, SOL, client, health, setup, trade } from "./venue.js";

/** A deterministic generator (xorshift64*), so a failure reproduces. */
function generator(seed: bigint) {
  let s = seed;
  return (): bigint => {
    s ^= s >> 12n;
    s ^= (s << 25n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 27n;
    return (s * 0x2545_f491_4f6c_dd1dn) & 0xffff_ffff_ffff_ffffn;
  };
}

test("I80F48 values are exact decimals, rounded toward −∞ only when asked", () => {
  assert.equal(Fx.fromBits(1n).toString(), "0.000000000000003552713678800500929355621337890625"); // 2^−48
  assert.equal(Fx.fromInt(-3).toString(), "-3");
  assert.equal(Fx.fromBits(-1n).toDecimal(2), "-0.01"); // toward −∞: never shows more health than there is
  assert.equal(Fx.fromBits(-1n).toDecimal(0), "-1");
  assert.equal(Fx.fromInt(7).toDecimal(3), "7.000");
  assert.equal(Fx.fromDecimal("2349.865").toDecimal(2), "2349.86"); // 2349.865 is below in binary
  assert.equal(Fx.fromDecimal("0.5").toString(), "0.5");
  assert.equal(JSON.stringify({ health: Fx.fromDecimal("-12.25") }), '{"health":"-12.25"}');
  assert.equal(Fx.fromStored({ bits: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0] }).toString(), "1");
  assert.equal(Fx.fromStored(new Array<number>(16).fill(255)).toString(), Fx.fromBits(-1n).toString());
  assert.throws(() => new Fx(1n << 127n), ValueError);
  assert.throws(() => Fx.fromStored([1, 2, 3]), /StoredFx: expected 16 bytes/);
  assert.throws(() => Fx.fromDecimal("1e5", "price"), /price: not a decimal number/);
  assert.throws(() => Fx.fromInt(1).toDecimal(49), /digits: must be an integer in 0..=48/);
  // Every I80F48 prints exactly and parses back to the same bits.
  const next = generator(0x9e37_79b9_7f4a_7c15n);
  for (let i = 0; i < 2_000; i++) {
    const bits = BigInt.asIntN(128, (next() << 64n) | next()) >> BigInt(Number(next() % 100n));
    const fx = new Fx(bits);
    assert.equal(Fx.fromDecimal(fx.toString()).bits, bits, fx.toString());
    const shown = Fx.fromDecimal(fx.toDecimal(6));
    assert.ok(shown.compare(fx) <= 0 && fx.sub(shown).bits < Fx.fromDecimal("0.000001").bits, `${fx} shown as ${shown}`);
  }
});

test("native amounts convert to UI units and back exactly; bad input names the field", () => {
  assert.equal(nativeToUi(1_500_000n, 6), "1.5");
  assert.equal(nativeToUi(-5n, 6), "-0.000005");
  assert.equal(nativeToUi(42n, 0), "42");
  assert.equal(uiToNative("1.5", 6), 1_500_000n);
  assert.equal(uiToNative("-0.05", 6), -50_000n);
  assert.equal(uiToNative(" 7 ", 9), 7_000_000_000n);
  assert.throws(() => uiToNative("1.0000001", 6, "--amount"), /--amount: 1\.0000001 has 7 decimal places; the token has 6/);
  for (const bad of ["", "NaN", "1e5", "0x10", "1.2.3", "--1", "1,5", "Infinity"]) {
    assert.throws(() => uiToNative(bad, 6, "--amount"), (e: unknown) => e instanceof ValueError && e.field === "--amount", bad);
  }
  assert.throws(() => nativeToUi(1n, 31), /decimals: must be an integer/);
  assert.throws(() => uiToNative("1", -1), /decimals: must be an integer/);
  assert.throws(() => nativeToUi(1.5, 6), /amount: not a safe integer: 1\.5/);
  assert.throws(() => nativeToUi(1e21, 6), /amount: not a safe integer/);
  assert.throws(() => Fx.fromBits("abc"), /I80F48 bits: not an integer/);
  assert.throws(() => Fx.fromInt(0.5), /units: not a safe integer/);
  assert.equal(bpsToPercent(2_500), "25%");
  assert.equal(bpsToPercent(5), "0.05%");
  assert.equal(bpsToPercent(-5), "-0.05%");
  assert.throws(() => bpsToPercent(Number.NaN), /bps: not an integer/);
  const next = generator(7n);
  for (let i = 0; i < 2_000; i++) {
    const amount = BigInt.asIntN(64, next());
    const decimals = Number(next() % 19n);
    assert.equal(uiToNative(nativeToUi(amount, decimals), decimals), amount);
  }
});

/** The raw IDL's fields of `typeName` that a decoder must carry (padding and reserved left out). */
function idlFields(typeName: string): string[] {
  const t = (idl.types as { name: string; type: { fields?: { name: string }[] } }[]).find((x) => x.name === typeName);
  assert.ok(t, typeName);
  return (t.type.fields ?? [])
    .map((f) => f.name)
    .filter((n) => !n.startsWith("_") && n !== "reserved" && n !== "padding")
    .map((n) => n.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

test("every account decodes with typed values and coded fields by name", async () => {
  const s = await setup();
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  // A pending change, so a RiskChange account exists.
  const id = (await s.exchange()).nextRiskChangeId;
  s.sb.send(
    [await client.proposeMarginScaleIx({ payer: s.sb.payer.publicKey, governance: s.governance.publicKey, id, params: marginScale(16_000) })],
    [s.governance],
  );
  const data = (key: PublicKey): Uint8Array => {
    const account = s.sb.getAccount(key);
    assert.ok(account, key.toBase58());
    return account.data;
  };
  const accounts: [AccountName, PublicKey][] = [
    ["exchange", client.exchange],
    ["haircutRegistry", client.registry],
    ["market", marketPda(client.programId, client.exchange, 0)],
    ["portfolio", s.a.portfolio],
    ["quoteLedger", client.quoteLedger],
    ["riskChange", riskChangePda(client.programId, client.exchange, id)],
  ];
  for (const [name, key] of accounts) {
    assert.equal(identifyAccount(data(key)), name);
    const decoded = decodeAccount(name, data(key)) as Record<string, unknown>;
    const rawName = (idl.accounts as { name: string }[]).find((a) => a.name.charAt(0).toLowerCase() + a.name.slice(1) === name)?.name;
    assert.ok(rawName);
    // Every field of the account is there (the decoders follow the IDL), no padding.
    assert.deepEqual(Object.keys(decoded).sort(), idlFields(rawName).sort(), name);
    assert.ok(!JSON.stringify(decoded, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).includes('"reserved"'));
  }

  const market = decodeMarket(data(marketPda(client.programId, client.exchange, 0)));
  assert.equal(market.underlying, 0);
  assert.equal(market.series[0]?.kind, "call");
  assert.equal(market.perpReduceOnly, false);
  assert.equal(typeof market.perpOpenInterest, "bigint");
  assert.equal(market.perpOpenInterest, 100n);
  assert.ok(market.fundingIndex instanceof Fx);
  assert.ok(market.volatility.shock instanceof Fx);
  assert.ok(market.marks[0]?.spot instanceof Fx);

  const portfolio = decodePortfolioAccount(data(s.a.portfolio));
  assert.equal(portfolio.liquidationState, "normal");
  assert.ok(portfolio.owner.equals(s.a.owner.publicKey));
  const quote = portfolio.balances.find((b) => b.active && b.collateral === 0);
  assert.equal(typeof quote?.amount, "bigint");
  const perp = portfolio.positions.find((p) => p.active);
  assert.deepEqual([perp?.kind, perp?.size], ["perp", 100n]);

  const exchange = decodeAccount("exchange", data(client.exchange));
  assert.deepEqual(exchange.pauseFlags, []);
  const registry = decodeAccount("haircutRegistry", data(client.registry));
  assert.equal(registry.collaterals[0]?.oracle.kind, "quote");
  assert.equal(registry.underlyings[0]?.oracle.kind, "pythPull");
  const change = decodeRiskChange(data(riskChangePda(client.programId, client.exchange, id)));
  assert.equal(change.kind, "marginScale");
  assert.equal(change.id, id);

  // The wrong decoder for the data is refused, by name.
  assert.throws(() => decodeMarket(data(s.a.portfolio)), /market: the data holds portfolio/);
  assert.throws(() => decodeMarket(new Uint8Array(16)), /market: the data holds no xmargin account/);
  assert.equal(identifyAccount(new Uint8Array(4)), undefined);
});

test("events decode by name with typed fields; only the program's own", async () => {
  const s = await setup();
  const landed = s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  const events = decodeEvents(landed.logs, client.programId);
  const fill = events.find((e) => e.name === "tradeFilled");
  assert.ok(fill && fill.name === "tradeFilled");
  assert.equal(fill.data.instrument, "perp");
  assert.equal(fill.data.underlying, 0);
  assert.equal(typeof fill.data.price, "bigint");
  assert.equal(fill.data.price, SOL);
  // Another program id: none of these lines are its events.
  assert.deepEqual(decodeEvents(landed.logs, PublicKey.unique()), []);

  const paused = s.sb.send([await client.setPauseIx(s.guardian.publicKey, PauseFlag.Trading | PauseFlag.Deposits)], [s.guardian]);
  const change = decodeEvents(paused.logs, client.programId).find((e) => e.name === "pauseFlagsChanged");
  assert.ok(change && change.name === "pauseFlagsChanged");
  assert.deepEqual([change.data.oldPauseFlags, change.data.newPauseFlags], [[], ["Deposits", "Trading"]]);
});

test("one parser reads litesvm, JSON-RPC, web3.js and Anchor failures, naming the oracle it refused", async () => {
  const s = await setup();
  // litesvm: the failing instruction is the third (two compute-budget instructions first).
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, 100n, SOL))], [s.a.owner, s.b.owner]);
  s.sb.warp(DAY); // no price published since: the SOL feed is stale
  const refresh = await client.refreshHealthIx(s.a.portfolio, await health(s, s.a));
  const budget = [ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }), ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 })];
  const result = s.sb.sendRaw([...budget, refresh]);
  assert.ok(result instanceof FailedTransactionMetadata);
  const stale = parseError(result);
  assert.ok(stale);
  assert.equal(stale.source, "xmargin");
  assert.equal(stale.instructionIndex, 2);
  assert.equal(stale.name, "OracleStale");
  assert.equal(stale.code, errorCode("OracleStale"));
  assert.ok(stale.message.length > 0 && stale.message !== stale.name, stale.message);
  assert.equal(stale.account, s.oracle.toBase58());
  assert.equal(stale.program, client.programId.toBase58());

  // A keeper instruction's oracle: the program names the account it refused.
  const crank = parseError(s.sb.sendRaw([await client.updateVolatilityIx(0, s.oracle)]));
  assert.deepEqual(pick(crank), { source: "xmargin", code: errorCode("OracleStale"), name: "OracleStale", instructionIndex: 0, account: s.oracle.toBase58() });

  // JSON-RPC `err` values.
  const code = errorCode("InsufficientHealth");
  assert.deepEqual(
    pick(parseError({ InstructionError: [1, { Custom: code }] })),
    { source: "xmargin", code, name: "InsufficientHealth", instructionIndex: 1 },
  );
  assert.deepEqual(pick(parseError({ InstructionError: [0, "InvalidAccountData"] })), { source: "runtime", name: "InvalidAccountData", instructionIndex: 0 });
  assert.deepEqual(pick(parseError("AccountNotFound")), { source: "runtime", name: "AccountNotFound" });
  // Anchor's own account checks in the program, with the account they name.
  const seeds = parseError({ InstructionError: [0, { Custom: 2006 }] }, [
    `Program ${client.programId.toBase58()} invoke [1]`,
    "Program log: AnchorError caused by account: portfolio. Error Code: ConstraintSeeds. Error Number: 2006. Error Message: A seeds constraint was violated.",
    `Program ${client.programId.toBase58()} failed: custom program error: 0x7d6`,
  ]);
  assert.deepEqual(pick(seeds), { source: "anchor", code: 2006, name: "ConstraintSeeds", instructionIndex: 0, account: "portfolio" });
  // Another program's custom error, raised in a CPI from xmargin (every caller up the stack
  // reports the failure again): not read as xmargin's, and the program named is the token's.
  const xmargin = client.programId.toBase58();
  const token = parseError({ InstructionError: [2, { Custom: 6001 }] }, [
    `Program ${xmargin} invoke [1]`,
    "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]",
    "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1771",
    `Program ${xmargin} failed: custom program error: 0x1771`,
  ]);
  assert.deepEqual(pick(token), { source: "program", code: 6001, name: "Custom(6001)", instructionIndex: 2 });
  assert.equal(token?.program, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
  // Another deployment of xmargin: its codes read by the id given.
  const elsewhere = PublicKey.unique();
  const deployed = parseError({ InstructionError: [0, { Custom: code }] }, [`Program ${elsewhere.toBase58()} failed: custom program error: 0x${code.toString(16)}`], elsewhere);
  assert.equal(deployed?.name, "InsufficientHealth");
  assert.equal(parseError({ InstructionError: [0, { Custom: code }] }, [`Program ${elsewhere.toBase58()} failed: custom program error: 0x1`])?.source, "program");

  // web3.js: a preflight failure, and a confirmation that reports the error.
  const preflight = new SendTransactionError({
    action: "simulate",
    signature: "",
    transactionMessage: `Transaction simulation failed: Error processing Instruction 3: custom program error: 0x${code.toString(16)}`,
    logs: stale.logs,
  });
  assert.deepEqual(pick(parseError(preflight)), { source: "xmargin", code, name: "InsufficientHealth", instructionIndex: 3, account: s.oracle.toBase58() });
  const confirmed = new Error(`Transaction 5xyz failed ({"err":{"InstructionError":[4,{"Custom":${code}}]}})`);
  assert.deepEqual(pick(parseError(confirmed)), { source: "xmargin", code, name: "InsufficientHealth", instructionIndex: 4 });
  // Anchor's client errors carry the code.
  assert.deepEqual(pick(parseError({ error: { errorCode: { number: code } }, logs: [] })), { source: "xmargin", code, name: "InsufficientHealth" });
  // Not a transaction failure (a one-key object that is no TransactionError variant included).
  assert.equal(parseError(new Error("fetch failed")), undefined);
  assert.equal(parseError(42), undefined);
  assert.equal(parseError({ signature: "5xyz" }), undefined);
  assert.deepEqual(pick(parseError({ InsufficientFundsForRent: { account_index: 2 } })), { source: "runtime", name: "InsufficientFundsForRent" });
});

/** The parsed fields a test compares (message and logs checked separately). */
function pick(p: ReturnType<typeof parseError>) {
  assert.ok(p, "not parsed");
  const out: Record<string, unknown> = { source: p.source, name: p.name };
  if (p.code !== undefined) out.code = p.code;
  if (p.instructionIndex !== undefined) out.instructionIndex = p.instructionIndex;
  if (p.account !== undefined) out.account = p.account;
  return out;
}

test("the runtime error names follow litesvm's enums value by value", () => {
  // Its declarations are `const enum`s (no names at run time): read them from its .d.ts.
  const dts = readFileSync(join(ROOT, "node_modules/litesvm/dist/internal.d.ts"), "utf8");
  const names = (enumName: string) => {
    const body = new RegExp(`export declare const enum ${enumName} \\{([^}]*)\\}`).exec(dts)?.[1] ?? "";
    return [...body.matchAll(/(\w+) = (\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
  };
  const instruction = names("InstructionErrorFieldless");
  const transaction = names("TransactionErrorFieldless");
  assert.ok(instruction.length > 40 && transaction.length > 30);
  for (const [name, value] of instruction) assert.equal(FIELDLESS_INSTRUCTION_ERRORS[value], name, `InstructionErrorFieldless ${value}`);
  for (const [name, value] of transaction) assert.equal(FIELDLESS_TRANSACTION_ERRORS[value], name, `TransactionErrorFieldless ${value}`);
  assert.equal(FIELDLESS_INSTRUCTION_ERRORS.length, instruction.length);
  assert.equal(FIELDLESS_TRANSACTION_ERRORS.length, transaction.length);
});
