//! `initialize_exchange` and `set_pause` on the compiled .so in LiteSVM.
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::instructions::InitializeExchangeArgs;
use xmargin::state::{pause, EXCHANGE_VERSION};
use xmargin_sandbox::{cu, pda, program_error_code, Pubkey, Sandbox, SandboxError, TxFailure, TxSuccess};

/// CU ceilings. Measured: initialize 47.5k–56k creating exchange, insurance vault, registry and
/// quote vault (the spread is `find_program_address` on the random quote mint: 1.5k CU per
/// extra bump try; the ceiling leaves room for ~20 tries); set_pause ≈ 3.8k..
const INITIALIZE_EXCHANGE_CEILING: u64 = 80_000;
const SET_PAUSE_CEILING: u64 = 6_000;

fn sandbox() -> Sandbox {
    Sandbox::new().unwrap_or_else(|e| panic!("{e}"))
}

fn assert_program_error(failure: &TxFailure, expected: XmarginError) {
    assert_eq!(
        failure.custom_code(),
        Some(program_error_code(expected)),
        "expected {expected:?}, got {failure}"
    );
}

fn args(governance: Pubkey, guardian: Pubkey) -> InitializeExchangeArgs {
    InitializeExchangeArgs {
        governance,
        guardian,
        timelock_delay_secs: 86_400,
        quote_deposit_cap: 1_000_000,
        max_weight_step_bps: 2_500,
    }
}

/// Initializes the exchange with fresh governance/guardian keys and a new 6-decimal mint,
/// records its CU under `scenario`, and returns (governance, guardian, mint, the landed tx).
fn initialize(sb: &mut Sandbox, scenario: &str) -> (Pubkey, Pubkey, Pubkey, TxSuccess) {
    let governance = sb.funded_keypair().pubkey();
    let guardian = sb.funded_keypair().pubkey();
    let mint = sb.create_mint(6);
    let ix = sb.initialize_exchange_ix(mint, args(governance, guardian));
    let authority = sb.upgrade_authority.insecure_clone();
    let landed = sb.send(&[ix], &[&authority]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("initialize_exchange", scenario, landed.compute_units, INITIALIZE_EXCHANGE_CEILING);
    (governance, guardian, mint, landed)
}

#[test]
fn initialize_exchange_writes_every_field() {
    let mut sb = sandbox();
    let (governance, guardian, mint, landed) =
        initialize(&mut sb, "create exchange, insurance vault, registry, quote vault");

    // `Exchange::initialize` takes ten arguments and is never inlined: arguments six and
    // up travel on the stack. Each one is asserted here, so a mis-sized stack frame
    // (which zeroes them) fails this test.
    let exchange = sb.exchange().expect("exchange account");
    let (_, exchange_bump) =
        anchor_lang::prelude::Pubkey::find_program_address(&[xmargin::seeds::EXCHANGE_SEED], &xmargin::ID);
    let vault = pda::insurance_vault(&pda::exchange());
    let (_, vault_bump) = anchor_lang::prelude::Pubkey::find_program_address(
        &[xmargin::seeds::INSURANCE_VAULT_SEED, pda::exchange().as_ref()],
        &xmargin::ID,
    );
    assert_eq!(exchange.version, EXCHANGE_VERSION);
    assert_eq!(exchange.governance, governance);
    assert_eq!(exchange.guardian, guardian);
    assert_eq!(exchange.quote_mint, mint);
    assert_eq!(exchange.quote_decimals, 6);
    assert_eq!(exchange.insurance_vault, vault);
    assert_eq!(exchange.bump, exchange_bump);
    assert_eq!(exchange.insurance_vault_bump, vault_bump);
    assert_eq!(exchange.timelock_delay_secs, 86_400);
    let clock: solana_clock::Clock = sb.svm.get_sysvar();
    assert_eq!(exchange.created_at, clock.unix_timestamp);
    assert_eq!(exchange.pause_flags, 0);
    assert!(exchange.reserved.iter().all(|b| *b == 0));

    // The vault is a quote-mint token account whose authority is the exchange PDA.
    let vault_account = sb.svm.get_account(&vault).expect("vault");
    assert_eq!(vault_account.owner, spl_token_interface::ID);
    assert_eq!(sb.token_amount(&vault), Some(0));
    assert!(landed.logs.iter().any(|l| l.starts_with("Program data: ")), "event emitted");
}

#[test]
fn second_initialize_fails_with_specific_error_and_changes_nothing() {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap();
    let before = sb.svm.get_account(&pda::exchange()).unwrap();
    let other = sb.funded_keypair().pubkey();
    let ix = sb.initialize_exchange_ix(fx.quote_mint, args(other, fx.guardian.pubkey()));
    let authority = sb.upgrade_authority.insecure_clone();
    let failure = sb.send(&[ix], &[&authority]).unwrap_err();
    assert_program_error(&failure, XmarginError::ExchangeAlreadyInitialized);
    assert_eq!(sb.svm.get_account(&pda::exchange()).unwrap(), before);
}

#[test]
fn initialize_by_a_non_upgrade_authority_fails() {
    let mut sb = sandbox();
    let impostor = sb.funded_keypair();
    let governance = sb.funded_keypair().pubkey();
    let guardian = sb.funded_keypair().pubkey();
    let mint = sb.create_mint(6);
    let ix = sb.initialize_exchange_ix_signed_by(impostor.pubkey(), mint, args(governance, guardian));
    let failure = sb.send(&[ix], &[&impostor]).unwrap_err();
    assert_program_error(&failure, XmarginError::NotUpgradeAuthority);
    assert!(sb.svm.get_account(&pda::exchange()).is_none_or(|a| a.data.is_empty()));
}

#[test]
fn initialize_without_an_upgrade_authority_fails() {
    // An immutable program (authority revoked) cannot be initialized by anyone.
    let mut sb = sandbox();
    sb.set_upgrade_authority(None);
    let governance = sb.funded_keypair().pubkey();
    let guardian = sb.funded_keypair().pubkey();
    let mint = sb.create_mint(6);
    let ix = sb.initialize_exchange_ix(mint, args(governance, guardian));
    let authority = sb.upgrade_authority.insecure_clone();
    let failure = sb.send(&[ix], &[&authority]).unwrap_err();
    assert_program_error(&failure, XmarginError::NotUpgradeAuthority);
}

#[test]
fn initialize_rejects_bad_arguments() {
    let mut sb = sandbox();
    let key = sb.funded_keypair().pubkey();
    let other = sb.funded_keypair().pubkey();
    let mint = sb.create_mint(6);
    let authority = sb.upgrade_authority.insecure_clone();
    let cases = [
        (
            InitializeExchangeArgs {
                governance: key,
                guardian: key,
                timelock_delay_secs: 86_400,
                quote_deposit_cap: 1_000_000,
                max_weight_step_bps: 2_500,
            },
            XmarginError::InvalidAuthorities,
        ),
        (
            InitializeExchangeArgs {
                governance: Default::default(),
                guardian: key,
                timelock_delay_secs: 86_400,
                quote_deposit_cap: 1_000_000,
                max_weight_step_bps: 2_500,
            },
            XmarginError::InvalidAuthorities,
        ),
        (
            InitializeExchangeArgs {
                governance: key,
                guardian: other,
                timelock_delay_secs: 86_400,
                quote_deposit_cap: 0,
                max_weight_step_bps: 2_500,
            },
            XmarginError::InvalidDepositCap,
        ),
        (
            InitializeExchangeArgs {
                governance: key,
                guardian: other,
                timelock_delay_secs: 86_400,
                quote_deposit_cap: 1,
                max_weight_step_bps: 0,
            },
            XmarginError::InvalidWeightStep,
        ),
        (
            InitializeExchangeArgs {
                governance: key,
                guardian: other,
                timelock_delay_secs: 59,
                quote_deposit_cap: 1_000_000,
                max_weight_step_bps: 2_500,
            },
            XmarginError::TimelockDelayOutOfRange,
        ),
        (
            InitializeExchangeArgs {
                governance: key,
                guardian: other,
                timelock_delay_secs: 31 * 86_400,
                quote_deposit_cap: 1_000_000,
                max_weight_step_bps: 2_500,
            },
            XmarginError::TimelockDelayOutOfRange,
        ),
    ];
    for (bad, expected) in cases {
        let ix = sb.initialize_exchange_ix(mint, bad);
        let failure = sb.send(&[ix], &[&authority]).unwrap_err();
        assert_program_error(&failure, expected);
        assert!(sb.exchange().is_none());
    }
}

#[test]
fn initialize_succeeds_on_a_prefunded_exchange_address() {
    // Anyone can send lamports to the PDA before deployment; that must not block it.
    let mut sb = sandbox();
    sb.svm.airdrop(&pda::exchange(), 1_000_000).unwrap();
    sb.svm.airdrop(&pda::insurance_vault(&pda::exchange()), 5_000_000).unwrap();
    let (governance, _, _, _) = initialize(&mut sb, "pre-funded exchange and vault addresses");
    assert_eq!(sb.exchange().unwrap().governance, governance);
}

#[test]
fn guardian_pauses_governance_unpauses() {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap();
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), pause::TRADING | pause::DEPOSITS);
    let landed = sb.send(&[ix], &[&fx.guardian]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("set_pause", "guardian sets two flags", landed.compute_units, SET_PAUSE_CEILING);
    assert_eq!(sb.exchange().unwrap().pause_flags, pause::TRADING | pause::DEPOSITS);

    // The guardian may add flags but not clear one.
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), pause::TRADING);
    let failure = sb.send(&[ix], &[&fx.guardian]).unwrap_err();
    assert_program_error(&failure, XmarginError::GuardianCannotUnpause);
    assert_eq!(sb.exchange().unwrap().pause_flags, pause::TRADING | pause::DEPOSITS);

    let ix = sb.set_pause_ix(fx.governance.pubkey(), 0);
    let landed = sb.send(&[ix], &[&fx.governance]).unwrap_or_else(|f| panic!("{f}"));
    cu::record("set_pause", "governance clears all flags", landed.compute_units, SET_PAUSE_CEILING);
    assert_eq!(sb.exchange().unwrap().pause_flags, 0);
}

#[test]
fn set_pause_rejects_strangers_and_unknown_flags() {
    let (mut sb, fx) = Sandbox::with_exchange().unwrap();
    let stranger = sb.funded_keypair();
    let ix = sb.set_pause_ix(stranger.pubkey(), pause::ALL);
    let failure = sb.send(&[ix], &[&stranger]).unwrap_err();
    assert_program_error(&failure, XmarginError::NotPauseAuthority);

    let ix = sb.set_pause_ix(fx.governance.pubkey(), 0x80);
    let failure = sb.send(&[ix], &[&fx.governance]).unwrap_err();
    assert_program_error(&failure, XmarginError::InvalidPauseFlags);
    assert_eq!(sb.exchange().unwrap().pause_flags, 0);
}

#[test]
fn missing_program_says_how_to_build_it() {
    let err = Sandbox::load(std::path::Path::new("/nonexistent/xmargin.so")).err().unwrap();
    assert!(matches!(err, SandboxError::ProgramMissing(_)));
    assert!(err.to_string().contains("make sbf"), "{err}");
}
