#!/usr/bin/env node
// xmargin-governance: every governed change the program has, for a governance key, a guardian
// or a multisig. Each command reads the current parameters from the chain, applies the edits
// (`--set path=value`, each parsed by its field's type), shows the diff, has the program
// check the transaction in simulation, and only then offers it: signed with --keypair after a
// confirmation (or --yes), or exported unsigned (--export-unsigned, base64) for a multisig's
// members to import and sign, or proposed to a Squads v4 multisig (--multisig: the vault is
// the authority, the --keypair a member who creates the vault transaction and its proposal).
//
//   propose <kind> [--index N] --set path=value ...    timelocked change (kinds below)
//   list                                               pending changes, diffs, executable times
//   execute <id> | cancel <id>                         after the timelock | governance withdraws it
//   tighten <collateral|offset-group|underlying|quote-peg|margin-scale> ...   guardian, at once
//   pause <flag...> | resume <flag...>                 guardian pauses; governance resumes
import { createInterface } from "node:readline/promises";

import { Connection, PublicKey, type TransactionInstruction } from "@solana/web3.js";
import { Argument, Command, InvalidArgumentError, Option } from "commander";

import { budgetIxs, chainNow, rpcChain, type Chain } from "../chain.js";
import { XmarginClient } from "../client.js";
import { decodeAccount } from "../decode.js";
import { SQUADS_PROGRAM_ID, decodeMultisig, multisigVault, squadsProposal, vaultTransactionInstructions, type MultisigView } from "../multisig.js";
import { integer, loadKeypair, publicKey, runWhenMain, strict, withCommonOptions, type CommonOptions } from "../ops/cli.js";
import {
  CHANGE_KINDS,
  applyEdits,
  currentParams,
  exportUnsigned,
  fieldDiff,
  pendingChanges,
  planProposal,
  untilText,
  type ChangeKind,
  type FieldChange,
} from "../proposals.js";
import { PauseFlag, type PauseFlagName } from "../state.js";

interface GovernanceOptions extends CommonOptions {
  authority?: PublicKey;
  exportUnsigned: boolean;
  yes: boolean;
  multisig?: PublicKey;
  vaultIndex: number;
  squadsProgram: PublicKey;
}

interface Session {
  o: GovernanceOptions;
  client: XmarginClient;
  connection: Connection;
  chain: Chain;
  /** Who signs the change: the keypair's key, --authority for an export, or the multisig's vault. */
  authority: PublicKey;
  /** With --multisig: the multisig and the member (the keypair) proposing to it. */
  squads?: { multisig: MultisigView; member: PublicKey };
  out: (line: string) => void;
}

async function session(o: GovernanceOptions): Promise<Session> {
  const connection = new Connection(o.rpc, "confirmed");
  const client = new XmarginClient(o.programId);
  const out = (l: string) => console.log(l);
  if (o.multisig) {
    // The vault signs the change inside the multisig; the keypair is the member proposing it
    // (and the fee payer, also of an export).
    const member = loadKeypair(o.keypair);
    const vault = multisigVault(o.multisig, o.vaultIndex, o.squadsProgram);
    if (o.authority && !o.authority.equals(vault)) {
      throw new Error(`--authority ${o.authority.toBase58()} is not the multisig's vault ${o.vaultIndex} (${vault.toBase58()})`);
    }
    const chain = rpcChain(connection, client, member, o.maxPriorityFee);
    const [account] = await chain.accounts([o.multisig]);
    if (!account) throw new Error(`multisig ${o.multisig.toBase58()} does not exist`);
    const multisig = decodeMultisig(account, o.squadsProgram);
    return { o, client, connection, chain, authority: vault, squads: { multisig, member: member.publicKey }, out };
  }
  // An export needs no secret key: the authority (a multisig vault) signs elsewhere.
  const signer = o.exportUnsigned ? undefined : loadKeypair(o.keypair);
  const authority = o.authority ?? signer?.publicKey;
  if (!authority) throw new Error("--export-unsigned needs --authority PUBKEY (the key that will sign, e.g. the multisig vault)");
  if (signer && o.authority && !signer.publicKey.equals(o.authority)) {
    throw new Error(`--authority ${o.authority.toBase58()} is not the --keypair's key ${signer.publicKey.toBase58()}`);
  }
  const chain = rpcChain(connection, client, signer ?? authority, o.maxPriorityFee);
  return { o, client, connection, chain, authority, out };
}

const diffLines = (changes: FieldChange[]): string[] =>
  changes.length === 0 ? ["  (no change)"] : changes.map((c) => `  ${c.path}: ${c.old} -> ${c.next}`);

/** Checks `ixs` in simulation, then sends them (after a confirmation) or exports them. */
async function submit(s: Session, what: string, ixs: TransactionInstruction[]): Promise<void> {
  const sim = await s.chain.simulate([...budgetIxs(1_400_000, 0, 0), ...ixs], []);
  if (!sim.ok) {
    const p = sim.parsed;
    throw new Error(`the program refuses ${what}: ${p?.name ?? sim.error ?? "failed"}${p?.message && p.message !== p.name ? ` (${p.message})` : ""}`);
  }
  if (s.squads) {
    // Wrapped for the multisig: what the program just accepted from the vault runs as the
    // vault transaction, once the members approve it.
    const { multisig, member } = s.squads;
    const p = squadsProposal({ multisig, member, inner: ixs, memo: `xmargin: ${what}`, vaultIndex: s.o.vaultIndex, programId: s.o.squadsProgram });
    // What the vault will run, read back from the built transaction: exactly what the program
    // just accepted in simulation.
    const wrapped = vaultTransactionInstructions(p.instructions[0]!);
    const same =
      wrapped.length === ixs.length &&
      wrapped.every((w, i) => w.programId.equals(ixs[i]!.programId) && w.data.equals(Buffer.from(ixs[i]!.data)) && w.keys.map((k) => k.pubkey.toBase58()).join() === ixs[i]!.keys.map((k) => k.pubkey.toBase58()).join());
    if (!same) throw new Error("the vault transaction does not carry the checked instructions (a Squads SDK mismatch): not sent");
    s.out(
      `squads: vault transaction #${p.transactionIndex} in multisig ${multisig.address.toBase58()} (vault ${p.vault.toBase58()}), ` +
        `threshold ${multisig.threshold} of ${multisig.members.length}, time lock ${multisig.timeLock} s; ` +
        `created and proposed by ${member.toBase58()}${p.approved ? ", with its approval" : ""}`,
    );
    s.out(
      `note: the change simulated at ${sim.unitsConsumed} compute units; the member executing the vault transaction sets the budget. ` +
        "A proposal's id is fixed when it is built: if another proposal lands before this one executes, it fails (RiskChangeIdMismatch) and must be built again.",
    );
    ixs = p.instructions;
  }
  if (s.o.exportUnsigned) {
    const payer = s.squads?.member ?? s.authority;
    // The instructions alone: compute-budget instructions cannot run inside a multisig's vault
    // transaction (a CPI), and the members' tools set their own.
    const { blockhash } = await s.connection.getLatestBlockhash("confirmed");
    s.out(`unsigned transaction (${what}; fee payer and signer ${payer.toBase58()}; blockhash ${blockhash}), base64:`);
    s.out(exportUnsigned(ixs, payer, blockhash));
    s.out(
      "note: signed as is, the blockhash expires in about a minute; imported into a multisig it does not matter. " +
        "A proposal's id is fixed when it is built: if another proposal lands first, build it again.",
    );
    return;
  }
  const writable = ixs.flatMap((ix) => ix.keys.filter((k) => k.isWritable).map((k) => k.pubkey));
  const fee = (await s.chain.priorityFee?.(writable)) ?? 0;
  // A multisig proposal's own cost is the Squads program's, not the simulated change's.
  const all = [...(s.squads ? budgetIxs(200_000, fee, 0) : budgetIxs(sim.unitsConsumed, fee)), ...ixs];
  if (!s.o.yes) {
    if (!process.stdin.isTTY) throw new Error("not a terminal: pass --yes to send without the confirmation prompt");
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`send ${what}? [y/N] `);
    rl.close();
    if (answer.trim().toLowerCase() !== "y") {
      s.out("not sent");
      return;
    }
  }
  const signature = await s.chain.send(all, []);
  s.out(`sent ${what}: ${signature}`);
}

function kind(value: string): ChangeKind {
  if (!(CHANGE_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${CHANGE_KINDS.join(", ")}`);
  return value as ChangeKind;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function flags(values: string[]): number {
  let mask = 0;
  for (const v of values) {
    const bit = PauseFlag[v as PauseFlagName];
    if (bit === undefined) throw new InvalidArgumentError(`unknown flag ${JSON.stringify(v)} (flags: ${Object.keys(PauseFlag).join(", ")})`);
    mask |= bit;
  }
  return mask;
}

function options(cmd: Command): Command {
  return withCommonOptions(strict(cmd), false)
    .option("--authority <pubkey>", "the signing authority (default: the --keypair's key; required with --export-unsigned)", publicKey)
    .option("--export-unsigned", "print the transaction unsigned (base64) for a multisig instead of sending it", false)
    .option("--multisig <address>", "propose through this Squads v4 multisig: its vault is the authority, --keypair a member who may initiate", publicKey)
    .option("--vault-index <n>", "the multisig's vault that holds the authority", integer(0, 255), 0)
    .addOption(new Option("--squads-program <id>", "the Squads v4 program").argParser(publicKey).default(SQUADS_PROGRAM_ID, SQUADS_PROGRAM_ID.toBase58()))
    .option("--yes", "send without the confirmation prompt", false);
}

export function governanceProgram(): Command {
  const program = strict(new Command("xmargin-governance").description("xmargin's governed changes: propose, list, execute, cancel, tighten, pause"));

  options(program.command("propose"))
    .description("propose a timelocked change")
    .addArgument(new Argument("<kind>", `what changes: ${CHANGE_KINDS.join(", ")}`).argParser(kind))
    .option("--index <n>", "the collateral, underlying or offset group (list-underlying: the listed underlying to start from)", integer(0, 255))
    .option("--set <path=value>", "a field's new value, e.g. haircut.initialAssetWeightBps=2500 (repeatable)", collect, [])
    .action(async (k: ChangeKind, o: GovernanceOptions & { index?: number; set: string[] }) => {
      const s = await session(o);
      if (o.set.length === 0 && k !== "list-underlying") throw new Error("nothing to change: give --set path=value");
      // A listing shows every field it sets (its diff is against nothing listed).
      const p = await planProposal(s.client, s.chain, { kind: k, index: o.index, edits: o.set, governance: s.authority, payer: s.authority });
      s.out(`proposal ${p.id}: ${k}${o.index === undefined ? "" : ` ${o.index}`}, executable ${new Date(Number(p.executableAt) * 1000).toISOString()} (the timelock):`);
      for (const l of diffLines(p.changes)) s.out(l);
      if (p.changes.length === 0) return;
      if (p.refused) throw new Error(`the program refuses this proposal: ${p.refused}`);
      await submit(s, `proposal ${p.id}`, [p.ix]);
    });

  options(program.command("list"))
    .description("pending changes with their diffs and when each becomes executable")
    .action(async (o: GovernanceOptions) => {
      // Reading needs no signer: no multisig, no keypair.
      const s = await session({ ...o, multisig: undefined, exportUnsigned: true, authority: o.authority ?? PublicKey.default });
      const now = await chainNow(s.chain);
      const pending = await pendingChanges(s.client, s.chain);
      if (pending.length === 0) s.out("no pending changes");
      for (const p of pending) {
        s.out(`#${p.id} ${p.kind} ${p.target}: executable ${new Date(Number(p.executableAt) * 1000).toISOString()} (${untilText(p.executableAt, now)})`);
        for (const l of diffLines(p.changes)) s.out(l);
      }
    });

  for (const action of ["execute", "cancel"] as const) {
    options(program.command(action))
      .description(action === "execute" ? "execute a change whose timelock has passed (anyone)" : "withdraw a pending change (governance)")
      .addArgument(new Argument("<id>", "the change's id (see list)").argParser((v: string) => BigInt(integer(0)(v))))
      .action(async (id: bigint, o: GovernanceOptions) => {
        const s = await session(o);
        const pending = (await pendingChanges(s.client, s.chain)).find((p) => p.id === id);
        if (!pending) throw new Error(`no pending change #${id}`);
        const now = await chainNow(s.chain);
        if (action === "execute" && pending.executableAt > now) {
          throw new Error(`change #${id} is not executable yet: ${untilText(pending.executableAt, now)}`);
        }
        s.out(`#${id} ${pending.kind} ${pending.target}:`);
        for (const l of diffLines(pending.changes)) s.out(l);
        const ix =
          action === "execute"
            ? await s.client.executeRiskChangeIx(id, pending.payer)
            : await s.client.cancelRiskChangeIx(s.authority, id, pending.payer);
        await submit(s, `${action} #${id}`, [ix]);
      });
  }

  const TIGHTEN = ["collateral", "offset-group", "underlying", "quote-peg", "margin-scale"] as const;
  options(program.command("tighten"))
    .description("guardian: tighten risk at once (the program refuses anything that loosens)")
    .addArgument(new Argument("<what>", TIGHTEN.join(", ")).choices(TIGHTEN))
    .option("--index <n>", "the collateral, underlying or offset group", integer(0, 255))
    .option("--set <path=value>", "a field's new value (repeatable)", collect, [])
    .action(async (what: (typeof TIGHTEN)[number], o: GovernanceOptions & { index?: number; set: string[] }) => {
      const s = await session(o);
      const type = { collateral: "CollateralRiskParams", "offset-group": "OffsetGroupConfig", underlying: "UnderlyingConfig", "quote-peg": "QuotePegParams", "margin-scale": "MarginScaleParams" }[what];
      const old = await currentParams(s.client, s.chain, what, o.index);
      const next = applyEdits(type, old, o.set);
      const changes = fieldDiff(type, old, next);
      s.out(`tighten ${what}${o.index === undefined ? "" : ` ${o.index}`} (at once):`);
      for (const l of diffLines(changes)) s.out(l);
      if (changes.length === 0) return;
      const index = o.index ?? 0;
      const ix =
        what === "collateral"
          ? await s.client.tightenRiskIx(s.authority, index, next as never)
          : what === "offset-group"
            ? await s.client.tightenOffsetsIx(s.authority, index, next as never)
            : await s.client.tightenScenarioIx(
                s.authority,
                (what === "underlying" ? { underlying: { index, config: next } } : what === "quote-peg" ? { quotePeg: { params: next } } : { marginScale: { params: next } }) as never,
              );
      await submit(s, `tighten ${what}`, [ix]);
    });

  for (const action of ["pause", "resume"] as const) {
    options(program.command(action))
      .description(action === "pause" ? "pause actions (guardian or governance)" : "resume paused actions (governance)")
      .addArgument(new Argument("<flags...>", Object.keys(PauseFlag).join(", ")))
      .action(async (names: string[], o: GovernanceOptions) => {
        const s = await session(o);
        const data = await s.chain.account(s.client.exchange);
        if (!data) throw new Error("the exchange account does not exist");
        const current = decodeAccount("exchange", data).pauseFlags.reduce((m, f) => m | PauseFlag[f], 0);
        const mask = flags(names);
        const next = action === "pause" ? current | mask : current & ~mask;
        s.out(`pause flags: ${current} -> ${next}`);
        await submit(s, action, [await s.client.setPauseIx(s.authority, next)]);
      });
  }
  return program;
}

runWhenMain(governanceProgram, import.meta.url);
