//! In-process SVM harness for xmargin.
//!
//! Loads the compiled sBPF program (`target/deploy/xmargin.so`) into LiteSVM, sends typed
//! instructions, and reports logs and compute units for each transaction. Used by the
//! integration tests (`programs/xmargin/tests`) and by `xmargin demo`.
use std::fmt;
use std::path::PathBuf;

use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use litesvm::types::TransactionMetadata;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_loader_v3_interface::state::UpgradeableLoaderState;
use solana_message::Message;
use solana_program_pack::Pack;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub use anchor_lang::prelude::Pubkey;
pub use xmargin;

pub mod cu;
pub mod engine_view;
pub mod fixtures;
pub mod governance;
pub mod ix;
pub mod liquidation;
pub mod oracles;
pub mod pda;
pub mod risk_model;
pub mod tokens;
pub mod venue;

/// Lamports given to every funded test key (1,000 SOL).
pub const FUND_LAMPORTS: u64 = 1_000_000_000_000;

/// The program's events of type `T` in a transaction's logs (`emit!` writes each as a
/// base64 `Program data:` line: discriminator, then the Borsh fields).
pub fn events<T: anchor_lang::Event + anchor_lang::AnchorDeserialize>(logs: &[String]) -> Vec<T> {
    use base64::Engine;
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|bytes| bytes.starts_with(T::DISCRIMINATOR))
        .filter_map(|bytes| T::try_from_slice(&bytes[T::DISCRIMINATOR.len()..]).ok())
        .collect()
}

/// Where the compiled program is read from: `$XMARGIN_SO`, else the workspace's
/// `target/deploy/xmargin.so`.
pub fn program_so_path() -> PathBuf {
    if let Ok(path) = std::env::var("XMARGIN_SO") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/deploy/xmargin.so")
}

#[derive(Debug)]
pub enum SandboxError {
    /// The `.so` is not there: the sBPF build has not run.
    ProgramMissing(PathBuf),
    /// LiteSVM refused the ELF (wrong format, failed verification).
    ProgramLoad(String),
    /// A set-up transaction failed (fixture construction).
    Setup(String),
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::ProgramMissing(path) => write!(
                f,
                "compiled program not found at {}: build it with `make sbf` \
                 (or set XMARGIN_SO to a built xmargin.so)",
                path.display()
            ),
            SandboxError::ProgramLoad(e) => write!(f, "LiteSVM could not load xmargin.so: {e}"),
            SandboxError::Setup(e) => write!(f, "venue set-up failed: {e}"),
        }
    }
}

impl std::error::Error for SandboxError {}

/// A landed transaction: its compute units and program logs.
#[derive(Debug, Clone)]
pub struct TxSuccess {
    pub compute_units: u64,
    pub logs: Vec<String>,
    /// The program's return data (empty when none).
    pub return_data: Vec<u8>,
}

/// A failed transaction: the error, plus the compute units and logs up to the failure.
#[derive(Debug, Clone)]
pub struct TxFailure {
    pub error: TransactionError,
    pub compute_units: u64,
    pub logs: Vec<String>,
}

impl TxFailure {
    /// The custom error code of the failing instruction (Anchor errors are 6000+ for the
    /// program's own enum, 2000..=4999 for Anchor's account/constraint errors).
    pub fn custom_code(&self) -> Option<u32> {
        match &self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for TxFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "transaction failed: {:?} ({} CU)", self.error, self.compute_units)?;
        for line in &self.logs {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

pub type TxResult = Result<TxSuccess, TxFailure>;

/// The code Anchor assigns to a variant of the program's error enum.
pub fn program_error_code(err: xmargin::error::XmarginError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + err as u32
}

pub struct Sandbox {
    pub svm: LiteSVM,
    /// Pays fees and rent for everything the harness creates.
    pub payer: Keypair,
    /// Upgrade authority written into the program's ProgramData account.
    pub upgrade_authority: Keypair,
}

impl Sandbox {
    /// Boots LiteSVM with the default programs (SPL Token, ...) and loads xmargin.so from
    /// [`program_so_path`] under the upgradeable loader, with `upgrade_authority` set.
    pub fn new() -> Result<Self, SandboxError> {
        Self::load(&program_so_path())
    }

    /// Like [`Sandbox::new`] with an explicit path to the compiled program.
    pub fn load(path: &std::path::Path) -> Result<Self, SandboxError> {
        let bytes = std::fs::read(path).map_err(|_| SandboxError::ProgramMissing(path.to_path_buf()))?;
        Self::with_program(&bytes)
    }

    /// The sandbox clock's start: 2026-01-01 13:37:00 UTC (deliberately not on an expiry
    /// boundary or a whole hour).
    pub const START_UNIX_TIMESTAMP: i64 = 1_767_274_620;

    pub fn with_program(program: &[u8]) -> Result<Self, SandboxError> {
        let mut svm = LiteSVM::new().with_log_bytes_limit(Some(100_000));
        // A fixed, realistic start time: every run sees the same expiries and year fractions,
        // so results do not depend on the day the tests run (a wall-clock start once made a
        // last-bit comparison pass on one day and fail on another).
        let mut clock: solana_clock::Clock = svm.get_sysvar();
        clock.unix_timestamp = Self::START_UNIX_TIMESTAMP;
        svm.set_sysvar(&clock);
        svm.add_program(xmargin::ID, program).map_err(|e| SandboxError::ProgramLoad(format!("{e:?}")))?;
        let payer = Keypair::new();
        let upgrade_authority = Keypair::new();
        svm.airdrop(&payer.pubkey(), FUND_LAMPORTS).expect("airdrop to payer");
        let mut sandbox = Sandbox { svm, payer, upgrade_authority };
        let authority = sandbox.upgrade_authority.pubkey();
        sandbox.set_upgrade_authority(Some(authority));
        Ok(sandbox)
    }

    /// Rewrites the program's ProgramData header with a new upgrade authority (the ELF
    /// bytes behind the header are untouched).
    pub fn set_upgrade_authority(&mut self, authority: Option<Pubkey>) {
        let address = pda::program_data();
        let mut account = self.svm.get_account(&address).expect("program data account");
        let slot = match bincode::deserialize::<UpgradeableLoaderState>(&account.data) {
            Ok(UpgradeableLoaderState::ProgramData { slot, .. }) => slot,
            other => panic!("unexpected program data header: {other:?}"),
        };
        let header = UpgradeableLoaderState::ProgramData { slot, upgrade_authority_address: authority };
        let bytes = bincode::serialize(&header).expect("serialize program data header");
        let len = UpgradeableLoaderState::size_of_programdata_metadata();
        account.data[..len].fill(0);
        account.data[..bytes.len()].copy_from_slice(&bytes);
        self.svm.set_account(address, account).expect("write program data");
    }

    pub fn payer_key(&self) -> Pubkey {
        self.payer.pubkey()
    }

    /// A new keypair holding [`FUND_LAMPORTS`].
    pub fn funded_keypair(&mut self) -> Keypair {
        let key = Keypair::new();
        self.svm.airdrop(&key.pubkey(), FUND_LAMPORTS).expect("airdrop");
        key
    }

    /// Sends one transaction with `payer` as fee payer plus `signers`, and advances the
    /// blockhash so identical transactions can be sent again.
    pub fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        for signer in signers {
            if signer.pubkey() != self.payer.pubkey() {
                all.push(signer);
            }
        }
        let message = Message::new(instructions, Some(&self.payer.pubkey()));
        let tx = Transaction::new(&all, message, self.svm.latest_blockhash());
        let result = self.svm.send_transaction(tx);
        self.svm.expire_blockhash();
        if let Some(filter) = std::env::var_os("XMARGIN_PRINT_LOGS") {
            // Profiling aid (docs/scaling.md): the logs of every transaction
            // whose logs contain the filter, e.g. the `cu-trace` marks of one instruction.
            let logs = match &result {
                Ok(meta) => &meta.logs,
                Err(failed) => &failed.meta.logs,
            };
            if logs.iter().any(|l| l.contains(filter.to_string_lossy().as_ref())) {
                eprintln!("{}", logs.join("\n"));
            }
        }
        match result {
            Ok(meta) => Ok(success(meta)),
            Err(failed) => Err(TxFailure {
                error: failed.err,
                compute_units: failed.meta.compute_units_consumed,
                logs: failed.meta.logs,
            }),
        }
    }

    /// Creates an SPL Token mint with `decimals`, mint authority = payer.
    pub fn create_mint(&mut self, decimals: u8) -> Pubkey {
        self.create_mint_with(decimals, spl_token_interface::ID)
    }

    /// Writes a rent-exempt account with `data` owned by `owner`.
    pub fn put_account(&mut self, address: Pubkey, data: Vec<u8>, owner: Pubkey) {
        let lamports = self.svm.minimum_balance_for_rent_exemption(data.len());
        let account = Account { lamports, data, owner, executable: false, rent_epoch: 0 };
        self.svm.set_account(address, account).expect("set account");
    }

    /// Reads and deserializes an Anchor account (discriminator checked).
    pub fn anchor_account<T: AccountDeserialize>(&self, address: &Pubkey) -> Option<T> {
        let account = self.svm.get_account(address)?;
        T::try_deserialize(&mut account.data.as_slice()).ok()
    }

    /// Reads a zero-copy Anchor account (discriminator checked) by value.
    pub fn zero_copy_account<T>(&self, address: &Pubkey) -> Option<T>
    where
        T: anchor_lang::ZeroCopy + anchor_lang::Discriminator + anchor_lang::Owner,
    {
        let account = self.svm.get_account(address)?;
        if account.owner != T::owner() || !account.data.starts_with(T::DISCRIMINATOR) {
            return None;
        }
        let body = account.data.get(8..8 + std::mem::size_of::<T>())?;
        Some(bytemuck_read(body))
    }

    /// Edits a zero-copy account in place (test set-up for states no instruction can reach
    /// yet, e.g. a liability before trading exists). Panics if the account is not a `T`.
    pub fn patch_zero_copy<T>(&mut self, address: &Pubkey, edit: impl FnOnce(&mut T))
    where
        T: anchor_lang::ZeroCopy + anchor_lang::Discriminator + anchor_lang::Owner,
    {
        let mut value: T = self.zero_copy_account(address).expect("zero-copy account");
        edit(&mut value);
        let mut account = self.svm.get_account(address).expect("account");
        let size = std::mem::size_of::<T>();
        // SAFETY: `ZeroCopy` types are plain old data; viewing one as bytes is sound.
        let bytes = unsafe { std::slice::from_raw_parts((&value as *const T).cast::<u8>(), size) };
        account.data[8..8 + size].copy_from_slice(bytes);
        self.svm.set_account(*address, account).expect("write account");
    }

    pub fn token_amount(&self, token_account: &Pubkey) -> Option<u64> {
        let account = self.svm.get_account(token_account)?;
        spl_token_interface::state::Account::unpack(&account.data).ok().map(|a| a.amount)
    }

    /// `initialize_exchange` with the harness's payer and upgrade authority.
    pub fn initialize_exchange_ix(
        &self,
        quote_mint: Pubkey,
        args: xmargin::instructions::InitializeExchangeArgs,
    ) -> Instruction {
        self.initialize_exchange_ix_signed_by(self.upgrade_authority.pubkey(), quote_mint, args)
    }

    /// `initialize_exchange` naming `upgrade_authority` as the signing authority.
    pub fn initialize_exchange_ix_signed_by(
        &self,
        upgrade_authority: Pubkey,
        quote_mint: Pubkey,
        args: xmargin::instructions::InitializeExchangeArgs,
    ) -> Instruction {
        let exchange = pda::exchange();
        let accounts = xmargin::accounts::InitializeExchange {
            payer: self.payer.pubkey(),
            upgrade_authority,
            program: xmargin::ID,
            program_data: pda::program_data(),
            exchange,
            insurance_vault: pda::insurance_vault(&exchange),
            registry: pda::registry(&exchange),
            quote_ledger: pda::quote_ledger(&exchange),
            quote_vault: pda::vault(&exchange, &quote_mint),
            quote_mint,
            token_program: spl_token_interface::ID,
            system_program: anchor_lang::system_program::ID,
        };
        Instruction {
            program_id: xmargin::ID,
            accounts: accounts.to_account_metas(None),
            data: xmargin::instruction::InitializeExchange { args }.data(),
        }
    }

    /// `set_pause` signed by `authority`.
    pub fn set_pause_ix(&self, authority: Pubkey, pause_flags: u8) -> Instruction {
        let accounts = xmargin::accounts::SetPause { authority, exchange: pda::exchange() };
        Instruction {
            program_id: xmargin::ID,
            accounts: accounts.to_account_metas(None),
            data: xmargin::instruction::SetPause {
                args: xmargin::instructions::SetPauseArgs { pause_flags },
            }
            .data(),
        }
    }

    /// The exchange singleton, if it exists.
    pub fn exchange(&self) -> Option<xmargin::state::Exchange> {
        self.zero_copy_account(&pda::exchange())
    }
}

/// Keys of an exchange created by [`Sandbox::with_exchange`].
pub struct ExchangeFixture {
    pub governance: Keypair,
    pub guardian: Keypair,
    pub quote_mint: Pubkey,
    /// Compute units `initialize_exchange` used.
    pub init_compute_units: u64,
}

/// Timelock used by [`Sandbox::with_exchange`]: one day.
pub const DEFAULT_TIMELOCK_SECS: i64 = 24 * 3600;

/// Per-change weight step used by the harness: 25 percentage points.
pub const DEFAULT_WEIGHT_STEP_BPS: u16 = 2_500;

/// Deposit cap used by the harness: 10^15 native units.
pub const DEFAULT_DEPOSIT_CAP: u64 = 1_000_000_000_000_000;

/// Decimals of the quote mint created by [`Sandbox::with_exchange`] (USDC-like).
pub const QUOTE_DECIMALS: u8 = 6;

impl Sandbox {
    /// A sandbox with an initialized exchange (fresh governance and guardian keys, a new
    /// 6-decimal quote mint, one-day timelock).
    pub fn with_exchange() -> Result<(Self, ExchangeFixture), SandboxError> {
        let mut sandbox = Sandbox::new()?;
        let governance = sandbox.funded_keypair();
        let guardian = sandbox.funded_keypair();
        let quote_mint = sandbox.create_mint(QUOTE_DECIMALS);
        let args = xmargin::instructions::InitializeExchangeArgs {
            governance: governance.pubkey(),
            guardian: guardian.pubkey(),
            timelock_delay_secs: DEFAULT_TIMELOCK_SECS,
            quote_deposit_cap: DEFAULT_DEPOSIT_CAP,
            max_weight_step_bps: DEFAULT_WEIGHT_STEP_BPS,
        };
        let ix = sandbox.initialize_exchange_ix(quote_mint, args);
        let authority = sandbox.upgrade_authority.insecure_clone();
        let landed = sandbox
            .send(&[ix], &[&authority])
            .unwrap_or_else(|failure| panic!("initialize_exchange failed: {failure}"));
        let fixture =
            ExchangeFixture { governance, guardian, quote_mint, init_compute_units: landed.compute_units };
        Ok((sandbox, fixture))
    }
}

fn success(meta: TransactionMetadata) -> TxSuccess {
    TxSuccess {
        compute_units: meta.compute_units_consumed,
        logs: meta.logs,
        return_data: meta.return_data.data,
    }
}

/// Copies a plain-old-data value out of an unaligned byte slice.
fn bytemuck_read<T: anchor_lang::ZeroCopy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    // SAFETY: `ZeroCopy` types are `Pod` (any bit pattern is valid) and the length matches;
    // `read_unaligned` does not require alignment.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}
