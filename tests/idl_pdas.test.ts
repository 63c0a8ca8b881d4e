// Every program-derived address in the generated IDL, resolved by an IDL-driven client
// (Anchor TS's own account resolution, from the IDL's seeds), equals the program's own
// derivation (app/src/pda.ts mirrors programs/xmargin/src/seeds.rs, and the Rust and TS
// suites exercise those addresses on the .so). A seed the IDL gets wrong — as
// `propose_risk_change`'s `risk_change` once was (`["risk_change", exchange, exchange]`: the
// id, read from the exchange account, was dropped) — fails here.
import { test } from "node:test";
import assert from "node:assert/strict";

import BN from "bn.js";
import { Keypair, PublicKey } from "@solana/web3.js";

import {
  XmarginClient,
  collateralInsurancePda,
  exchangePda,
  insuranceVaultPda,
  quoteLedgerPda,
  portfolioPda,
  registryPda,
  riskChangePda,
  vaultPda,
} from "../app/src/index.js";
import idl from "../app/src/idl/xmargin.json" with { type: "json" };

/** An account of an instruction, or a nested group (an Anchor composite: `accounts`). */
type IdlAccount = { name: string; pda?: unknown; address?: string; accounts?: IdlAccount[] };
type Given = { [name: string]: PublicKey | Given };

/** A fresh key for every account of `accounts` the IDL does not derive (signers, markets,
 * mints, ...), nested groups as nested objects (how Anchor TS takes them). */
function freshKeys(accounts: IdlAccount[]): Given {
  const given: Given = {};
  for (const a of accounts) {
    if (a.accounts) given[camel(a.name)] = freshKeys(a.accounts);
    else if (a.pda === undefined && a.address === undefined) given[camel(a.name)] = Keypair.generate().publicKey;
  }
  return given;
}
type IdlInstruction = { name: string; accounts: IdlAccount[]; args: unknown[] };

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

test("every PDA of the IDL resolves, by Anchor's account resolution, to the program's address", async () => {
  const client = new XmarginClient();
  const programId = client.programId;
  const exchange = exchangePda(programId);
  // The argument fields any seed reads (`args.index`, `args.id`), with values that are not
  // the defaults a wrong derivation could hit by chance.
  const args = { index: 3, id: new BN(7) };
  let checked = 0;
  for (const ix of (idl as { instructions: IdlInstruction[] }).instructions) {
    const pdas = ix.accounts.filter((a) => a.pda !== undefined);
    if (pdas.length === 0) continue;
    // Every other account (signers, markets, mints, ...) as a fresh key.
    const fresh = freshKeys(ix.accounts);
    const given = fresh as Record<string, PublicKey>;
    const methods = client.program.methods as unknown as Record<string, (...a: unknown[]) => {
      accountsPartial: (a: Given) => { pubkeys: () => Promise<Record<string, PublicKey>> };
    }>;
    const builder = methods[camel(ix.name)];
    assert.ok(builder, `${ix.name}: a method of the IDL client`);
    const resolved = await builder(...ix.args.map(() => args)).accountsPartial(fresh).pubkeys();
    for (const a of pdas) {
      const expected = ((): PublicKey => {
        switch (`${ix.name}.${a.name}`) {
          case `${ix.name}.exchange`:
            return exchange;
          case `${ix.name}.registry`:
            return registryPda(programId, exchange);
          case "initialize_exchange.insurance_vault":
            return insuranceVaultPda(programId, exchange);
          case "initialize_exchange.quote_ledger":
            return quoteLedgerPda(programId, exchange);
          case "initialize_exchange.quote_vault":
            return vaultPda(programId, exchange, given.quoteMint!);
          case "list_collateral.vault":
            return vaultPda(programId, exchange, given.mint!);
          case "list_collateral.insurance_vault":
            return collateralInsurancePda(programId, exchange, given.mint!);
          case "open_portfolio.portfolio":
            return portfolioPda(programId, given.owner!, args.index);
          case "propose_risk_change.risk_change":
            return riskChangePda(programId, exchange, BigInt(args.id.toString()));
          default:
            throw new Error(`${ix.name}.${a.name}: a PDA of the IDL with no derivation in this test — add it`);
        }
      })();
      const got = resolved[camel(a.name)];
      assert.ok(got, `${ix.name}.${a.name}: resolved`);
      assert.equal(got.toBase58(), expected.toBase58(), `${ix.name}.${a.name}: IDL seeds vs the program's derivation`);
      checked += 1;
    }
  }
  // 29 instructions; every PDA the IDL names.
  assert.ok(checked >= 40, `${checked} PDAs checked`);
});
