// Governance through a Squads v4 multisig: a governed change (or a guardian action) wrapped
// as a vault transaction and proposed to the multisig's members, built with the Squads SDK
// (`@sqds/multisig`). The multisig's vault is the xmargin authority (governance or guardian);
// a member with the Initiate permission creates the vault transaction and its proposal, and
// votes for it when it may; the others approve in their own tools, and any member executes
// it once the threshold (and the multisig's own time lock) is met.
import { PublicKey, TransactionMessage, type TransactionInstruction } from "@solana/web3.js";
import * as sqds from "@sqds/multisig";

import type { RawAccount } from "./engine.js";

/** The Squads v4 program on mainnet and devnet (the SDK's). */
export const SQUADS_PROGRAM_ID: PublicKey = sqds.PROGRAM_ID;

/** A multisig as the proposal needs it. */
export interface MultisigView {
  address: PublicKey;
  threshold: number;
  /** Seconds between approval and execution (the multisig's own time lock). */
  timeLock: number;
  /** The last transaction's index: the next one is this + 1. */
  transactionIndex: bigint;
  members: { key: PublicKey; initiate: boolean; vote: boolean; execute: boolean }[];
}

/** Decodes a Squads v4 `Multisig` account (owner and discriminator checked). */
export function decodeMultisig(account: RawAccount, programId: PublicKey = SQUADS_PROGRAM_ID): MultisigView {
  if (!account.owner.equals(programId)) {
    throw new Error(`${account.address.toBase58()} is not a Squads multisig: owned by ${account.owner.toBase58()}, not ${programId.toBase58()}`);
  }
  const [m] = sqds.accounts.Multisig.fromAccountInfo({
    data: Buffer.from(account.data),
    owner: account.owner,
    lamports: Number(account.lamports),
    executable: account.executable,
  });
  const { Permission, Permissions } = sqds.types;
  return {
    address: account.address,
    threshold: m.threshold,
    timeLock: m.timeLock,
    transactionIndex: BigInt(m.transactionIndex.toString()),
    members: m.members.map((x) => ({
      key: x.key,
      initiate: Permissions.has(x.permissions, Permission.Initiate),
      vote: Permissions.has(x.permissions, Permission.Vote),
      execute: Permissions.has(x.permissions, Permission.Execute),
    })),
  };
}

/** A multisig's vault (index 0 by default): the key that signs for it, xmargin's authority. */
export function multisigVault(multisig: PublicKey, vaultIndex = 0, programId: PublicKey = SQUADS_PROGRAM_ID): PublicKey {
  return sqds.getVaultPda({ multisigPda: multisig, index: vaultIndex, programId })[0];
}

export interface SquadsProposal {
  multisig: PublicKey;
  vault: PublicKey;
  /** The vault transaction's index (its proposal's too). */
  transactionIndex: bigint;
  /** vault_transaction_create, proposal_create and, when the member may vote, proposal_approve:
   * to be signed by the member (fee payer and rent payer). */
  instructions: TransactionInstruction[];
  /** Whether the member's own approval is included. */
  approved: boolean;
}

/**
 * Wraps `inner` (instructions signed by the vault: xmargin's governance or guardian
 * instructions, no compute-budget ones — they cannot run inside the vault's CPI) into a
 * Squads vault transaction and its proposal, created by `member`. Refuses a member who is not
 * in the multisig or may not initiate, before anything is built.
 */
export function squadsProposal(args: {
  multisig: MultisigView;
  member: PublicKey;
  inner: TransactionInstruction[];
  memo: string;
  vaultIndex?: number;
  programId?: PublicKey;
}): SquadsProposal {
  const programId = args.programId ?? SQUADS_PROGRAM_ID;
  const vaultIndex = args.vaultIndex ?? 0;
  const m = args.multisig;
  const me = m.members.find((x) => x.key.equals(args.member));
  if (!me) throw new Error(`${args.member.toBase58()} is not a member of multisig ${m.address.toBase58()}`);
  if (!me.initiate) throw new Error(`${args.member.toBase58()} may not initiate transactions in multisig ${m.address.toBase58()}`);
  const vault = multisigVault(m.address, vaultIndex, programId);
  // Inside the vault transaction only the vault signs: a payer or authority other than the
  // vault would make it unexecutable, after the members approved it.
  args.inner.forEach((ix, i) => {
    const other = ix.keys.find((k) => k.isSigner && !k.pubkey.equals(vault));
    if (other) throw new Error(`instruction ${i} needs the signature of ${other.pubkey.toBase58()}: inside the vault transaction only the vault ${vault.toBase58()} signs (make it the payer too)`);
  });
  const transactionIndex = m.transactionIndex + 1n;
  const common = { multisigPda: m.address, transactionIndex, programId };
  const instructions = [
    sqds.instructions.vaultTransactionCreate({
      ...common,
      creator: args.member,
      rentPayer: args.member,
      vaultIndex,
      ephemeralSigners: 0,
      // The blockhash of the wrapped message is not used: the vault transaction keeps the
      // message, and execution takes the executing transaction's.
      transactionMessage: new TransactionMessage({ payerKey: vault, recentBlockhash: PublicKey.default.toBase58(), instructions: args.inner }),
      memo: args.memo.slice(0, 200),
    }),
    sqds.instructions.proposalCreate({ ...common, creator: args.member, rentPayer: args.member }),
  ];
  if (me.vote) instructions.push(sqds.instructions.proposalApprove({ ...common, member: args.member }));
  return { multisig: m.address, vault, transactionIndex, instructions, approved: me.vote };
}

/** The instructions a vault transaction created by `vaultTransactionCreate` will run, as the
 * members' tools show them: program, accounts (with the vault as signer) and data. */
export function vaultTransactionInstructions(create: TransactionInstruction): { programId: PublicKey; keys: { pubkey: PublicKey; isSigner: boolean; isWritable: boolean }[]; data: Buffer }[] {
  const [args] = sqds.generated.vaultTransactionCreateStruct.deserialize(create.data);
  const [message] = sqds.types.transactionMessageBeet.deserialize(Buffer.from(args.args.transactionMessage));
  const keys = message.accountKeys;
  const signers = message.numSigners;
  const writableSigners = message.numWritableSigners;
  const writableOthers = message.numWritableNonSigners;
  const isWritable = (i: number) => (i < signers ? i < writableSigners : i - signers < writableOthers);
  return message.instructions.map((ix) => ({
    programId: keys[ix.programIdIndex]!,
    keys: [...ix.accountIndexes].map((i) => ({ pubkey: keys[i]!, isSigner: i < signers, isWritable: isWritable(i) })),
    data: Buffer.from(ix.data),
  }));
}
