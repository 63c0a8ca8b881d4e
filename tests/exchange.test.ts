// initialize_exchange and set_pause on the compiled .so, from TypeScript (npm litesvm).
import { test } from "node:test";
import assert from "node:assert/strict";

import { Keypair, PublicKey } from "@solana/web3.js";

import { PauseFlag, XmarginClient, errorCode } from "../app/src/index.js";
import { Sandbox, recordCu } from "./harness.js";

// Same ceilings as programs/xmargin/tests/tests/exchange.rs.
const INITIALIZE_EXCHANGE_CEILING = 80_000;
const SET_PAUSE_CEILING = 6_000;

const client = new XmarginClient();

interface Setup {
  sb: Sandbox;
  governance: Keypair;
  guardian: Keypair;
  quoteMint: PublicKey;
}

function fresh(): Setup {
  const sb = new Sandbox();
  return { sb, governance: sb.fundedKeypair(), guardian: sb.fundedKeypair(), quoteMint: sb.createMint(6) };
}

async function initIx(s: Setup, overrides: Partial<{ authority: PublicKey; governance: PublicKey; timelock: number }> = {}) {
  return client.initializeExchangeIx({
    payer: s.sb.payer.publicKey,
    upgradeAuthority: overrides.authority ?? s.sb.upgradeAuthority.publicKey,
    quoteMint: s.quoteMint,
    governance: overrides.governance ?? s.governance.publicKey,
    guardian: s.guardian.publicKey,
    timelockDelaySecs: overrides.timelock ?? 86_400,
    quoteDepositCap: 1_000_000_000_000n,
    maxWeightStepBps: 2_500,
  });
}

async function initialized(): Promise<Setup> {
  const s = fresh();
  s.sb.send([await initIx(s)], [s.sb.upgradeAuthority]);
  return s;
}

test("initialize_exchange creates the exchange and reads back every field", async () => {
  const s = fresh();
  const landed = s.sb.send([await initIx(s)], [s.sb.upgradeAuthority]);
  recordCu("initialize_exchange", "create exchange, insurance vault, registry, quote vault", landed.computeUnits, INITIALIZE_EXCHANGE_CEILING);

  const exchange = await client.fetchExchange((k) => s.sb.accountData(k));
  assert.ok(exchange);
  assert.equal(exchange.version, 2);
  // The quote ledger exists, and no market yet.
  assert.equal(exchange.marketMask, 0);
  assert.ok(await s.sb.accountData(client.quoteLedger), "the quote ledger is created with the exchange");
  assert.ok(exchange.governance.equals(s.governance.publicKey));
  assert.ok(exchange.guardian.equals(s.guardian.publicKey));
  assert.ok(exchange.quoteMint.equals(s.quoteMint));
  assert.equal(exchange.quoteDecimals, 6);
  assert.ok(exchange.insuranceVault.equals(client.insuranceVault));
  assert.equal(exchange.timelockDelaySecs, 86_400n);
  assert.equal(exchange.pauseFlags, 0);
  const [, bump] = PublicKey.findProgramAddressSync([Buffer.from("exchange")], client.programId);
  assert.equal(exchange.bump, bump);
  assert.equal(exchange.createdAt, s.sb.svm.getClock().unixTimestamp);
  const vault = s.sb.getAccount(client.insuranceVault);
  assert.ok(vault, "insurance vault exists");
  assert.equal(vault.programAddress, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
});

test("a second initialize_exchange fails with ExchangeAlreadyInitialized and changes nothing", async () => {
  const s = await initialized();
  const before = await s.sb.accountData(client.exchange);
  const failure = s.sb.sendExpectingFailure([await initIx(s, { governance: Keypair.generate().publicKey })], [s.sb.upgradeAuthority]);
  assert.equal(failure.errorName, "ExchangeAlreadyInitialized");
  assert.equal(failure.customCode, errorCode("ExchangeAlreadyInitialized"));
  assert.deepEqual(await s.sb.accountData(client.exchange), before);
});

test("initialize_exchange signed by someone other than the upgrade authority fails", async () => {
  const s = fresh();
  const impostor = s.sb.fundedKeypair();
  const failure = s.sb.sendExpectingFailure([await initIx(s, { authority: impostor.publicKey })], [impostor]);
  assert.equal(failure.errorName, "NotUpgradeAuthority");
  assert.equal(await s.sb.accountData(client.exchange), null);
});

test("initialize_exchange rejects an out-of-range timelock", async () => {
  const s = fresh();
  const failure = s.sb.sendExpectingFailure([await initIx(s, { timelock: 10 })], [s.sb.upgradeAuthority]);
  assert.equal(failure.errorName, "TimelockDelayOutOfRange");
});

test("guardian pauses, cannot unpause; governance unpauses", async () => {
  const s = await initialized();
  const landed = s.sb.send([await client.setPauseIx(s.guardian.publicKey, PauseFlag.Trading)], [s.guardian]);
  recordCu("set_pause", "guardian sets one flag", landed.computeUnits, SET_PAUSE_CEILING);
  assert.equal((await client.fetchExchange((k) => s.sb.accountData(k)))?.pauseFlags, PauseFlag.Trading);

  const failure = s.sb.sendExpectingFailure([await client.setPauseIx(s.guardian.publicKey, 0)], [s.guardian]);
  assert.equal(failure.errorName, "GuardianCannotUnpause");

  s.sb.send([await client.setPauseIx(s.governance.publicKey, 0)], [s.governance]);
  assert.equal((await client.fetchExchange((k) => s.sb.accountData(k)))?.pauseFlags, 0);
});
