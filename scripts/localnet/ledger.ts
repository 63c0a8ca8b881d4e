// The local JSON-RPC network (`xmargin-localnet`: surfpool on LiteSVM, localnet/) for
// operators and end-to-end tests: started on its ports with the compiled program deployed, and
// driven over JSON-RPC with the network's cheatcodes (set an account, move the clock) where
// the SVM harness writes accounts directly.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, TransactionInstruction, TransactionMessage, VersionedTransaction } from "@solana/web3.js";

import { PROGRAM_ID, chainNow, parseError } from "../../app/src/index.js";
import { PYTH_RECEIVER, mintData, pullOracleData, tokenAccountData } from "./accounts.js";

export const ROOT = join(import.meta.dirname, "../..");
export const LOCALNET_BIN = join(ROOT, "target/localnet/release/xmargin-localnet");
export const PROGRAM_SO = process.env.XMARGIN_SO ?? join(ROOT, "target/deploy/xmargin.so");

export class Localnet {
  private constructor(
    readonly process: ChildProcess,
    readonly url: string,
    readonly connection: Connection,
  ) {}

  /** Starts the network on `rpcPort` (websockets on the next port, where web3.js looks) with
   * the program deployed and `upgradeAuthority` as its upgrade authority. */
  static async start(rpcPort: number, upgradeAuthority: PublicKey): Promise<Localnet> {
    if (!existsSync(LOCALNET_BIN)) throw new Error(`${LOCALNET_BIN} is missing: build it with \`make localnet-build\``);
    const child = spawn(
      LOCALNET_BIN,
      ["--rpc-port", String(rpcPort), "--ws-port", String(rpcPort + 1), "--program", `${PROGRAM_ID.toBase58()}=${PROGRAM_SO}`, "--upgrade-authority", upgradeAuthority.toBase58()],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`localnet did not start in 30 s:\n${err}`)), 30_000);
      child.once("exit", (code) => reject(new Error(`localnet exited with ${code}:\n${err}`)));
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("localnet ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const url = `http://127.0.0.1:${rpcPort}`;
    return new Localnet(child, url, new Connection(url, "confirmed"));
  }

  async stop(): Promise<void> {
    // web3.js reconnects its websocket forever once the node is gone, which would keep the
    // test process alive: close it for good first.
    const ws = (this.connection as unknown as { _rpcWebSocket?: { reconnect: boolean; close(): void } })._rpcWebSocket;
    if (ws) {
      ws.reconnect = false;
      ws.close();
    }
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    // SIGTERM: a SIGINT can be lost when the network was started from a shell's background.
    this.process.kill("SIGTERM");
    await exited;
  }

  async call<T>(method: string, params: unknown[]): Promise<T> {
    const res = await fetch(this.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  }

  /** Writes an account (the `surfnet_setAccount` cheatcode), rent-exempt. */
  async setAccount(key: PublicKey, data: Uint8Array, owner: string): Promise<void> {
    const lamports = await this.connection.getMinimumBalanceForRentExemption(data.length);
    await this.call("surfnet_setAccount", [key.toBase58(), { lamports, data: Buffer.from(data).toString("hex"), owner, executable: false }]);
  }

  /** Gives `key` 1,000 SOL for fees and rent. */
  async fund(key: PublicKey): Promise<void> {
    await this.call("surfnet_setAccount", [key.toBase58(), { lamports: 1_000 * LAMPORTS_PER_SOL }]);
  }

  async fundedKeypair(): Promise<Keypair> {
    const key = Keypair.generate();
    await this.fund(key.publicKey);
    return key;
  }

  async now(): Promise<bigint> {
    return chainNow({ account: async (k) => (await this.connection.getAccountInfo(k))?.data ?? null });
  }

  /** Moves the clock `seconds` ahead (the `surfnet_timeTravel` cheatcode). */
  async warp(seconds: number): Promise<void> {
    const target = (await this.now()) + BigInt(seconds);
    await this.call("surfnet_timeTravel", [{ absoluteTimestamp: Number(target) * 1_000 }]);
    while ((await this.now()) < target) await new Promise((r) => setTimeout(r, 50));
  }

  async createMint(decimals: number, authority: PublicKey, tokenProgram: PublicKey): Promise<PublicKey> {
    const mint = Keypair.generate().publicKey;
    await this.setAccount(mint, mintData(decimals, authority), tokenProgram.toBase58());
    return mint;
  }

  async createTokenAccount(mint: PublicKey, owner: PublicKey, amount: bigint, tokenProgram: PublicKey, address = Keypair.generate().publicKey): Promise<PublicKey> {
    await this.setAccount(address, tokenAccountData(mint, owner, amount), tokenProgram.toBase58());
    return address;
  }

  /** A Pyth pull update for `feed` at `address`, published at the cluster's now. */
  async putPullOracle(address: PublicKey, feed: Buffer, price: bigint, conf: bigint, expo: number): Promise<void> {
    const slot = BigInt(await this.connection.getSlot("confirmed"));
    await this.setAccount(address, pullOracleData(feed, price, conf, expo, await this.now(), slot), PYTH_RECEIVER);
  }

  /** Signs with `payer` and `signers`, sends, waits for confirmation; throws the parsed error. */
  async send(payer: Keypair, ixs: TransactionInstruction[], signers: Keypair[] = []): Promise<string> {
    const { blockhash, lastValidBlockHeight } = await this.connection.getLatestBlockhash("confirmed");
    const tx = new VersionedTransaction(new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: ixs }).compileToV0Message());
    const wanted = new Set(tx.message.staticAccountKeys.slice(0, tx.message.header.numRequiredSignatures).map((k) => k.toBase58()));
    tx.sign([payer, ...signers.filter((s) => wanted.has(s.publicKey.toBase58()) && !s.publicKey.equals(payer.publicKey))]);
    try {
      const signature = await this.connection.sendTransaction(tx);
      const status = await this.connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
      if (status.value.err) throw new Error(`${signature}: ${parseError(status.value.err)?.name}`);
      return signature;
    } catch (e) {
      const parsed = parseError(e);
      throw new Error(`transaction failed: ${parsed ? `${parsed.name} (${parsed.message})` : String(e)}`);
    }
  }
}
