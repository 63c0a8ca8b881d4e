//! The sandbox demo: everything runs against the compiled sBPF program in LiteSVM.
use anyhow::{anyhow, Result};
use solana_signer::Signer;
use xmargin::instructions::{ListCollateralArgs, RiskChangeArgs};
use xmargin::oracle::{kind, OracleConfig};
use xmargin::state::{pause, CollateralConfig, CollateralRiskParams, Exchange, Haircut};
use xmargin_sandbox::ix::fx_bits_to_f64;
use xmargin_sandbox::tokens::TOKEN_2022;
use xmargin_sandbox::{pda, program_so_path, Pubkey, Sandbox, TxFailure, DEFAULT_TIMELOCK_SECS};

const SPL_TOKEN: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

fn fail(f: TxFailure) -> anyhow::Error {
    anyhow!("{f}")
}

pub fn run(crash: &crate::demo_liquidation::CrashArgs) -> Result<()> {
    let so = program_so_path();
    // The checkout's own build (crates/sandbox resolves it from its manifest), shown resolved.
    let so = std::fs::canonicalize(&so).unwrap_or(so);
    let size = std::fs::metadata(&so).map(|m| m.len()).unwrap_or(0);
    println!("xmargin sandbox: LiteSVM with {} ({} bytes)", so.display(), size);
    println!("program id: {}\n", xmargin::ID);

    let (mut sb, fx) = Sandbox::with_exchange().map_err(|e| anyhow!("{e}"))?;
    println!("initialize_exchange (signed by the upgrade authority): {} CU", fx.init_compute_units);
    print_exchange(&sb, &sb.exchange().ok_or_else(|| anyhow!("exchange not found"))?);

    // Two collateral assets with oracles: SOL (Pyth pull, SPL Token), ETH (legacy Pyth push,
    // Token-2022).
    let sol = sb.create_mint_with(9, SPL_TOKEN);
    let sol_feed = [0x50; 32];
    let sol_oracle = xmargin_sandbox::oracles::sponsored_feed_account(sol_feed);
    let q = sb.quote(15_000, 5, -2);
    sb.put_pull_oracle(sol_oracle, sol_feed, &q, true);
    let eth = sb.create_mint_with(8, TOKEN_2022);
    let pyth = solana_keypair::Keypair::new().pubkey();
    let eth_oracle = solana_keypair::Keypair::new().pubkey();
    let q = sb.quote(300_000, 100, -2);
    sb.put_legacy_oracle(eth_oracle, pyth, &q, 1);
    let oracle = |source: [u8; 32], kind, legacy_program| OracleConfig {
        source,
        legacy_program,
        feed_account: if kind == kind::PYTH_PULL {
            xmargin_sandbox::oracles::sponsored_feed_account(source)
        } else {
            Pubkey::default()
        },
        kind,
        max_staleness_secs: 60,
        max_conf_bps: 200,
        ..OracleConfig::default()
    };
    let sol_tiers = [(1_000_000_000_000u64, 0u16, 8_000u16)];
    let listings = [
        (
            sol,
            oracle(sol_feed, kind::PYTH_PULL, Pubkey::default()),
            haircut(9_000, &sol_tiers),
            10u64.pow(15),
        ),
        (eth, oracle(eth_oracle.to_bytes(), kind::PYTH_LEGACY, pyth), haircut(8_500, &[]), 10u64.pow(13)),
    ];
    println!(
        "\ngovernance lists SOL (Pyth pull) and ETH (legacy Pyth, Token-2022), both at initial weight 0"
    );
    for (mint, oracle, haircut, deposit_cap) in listings {
        let ix = sb.list_collateral_ix(
            fx.governance.pubkey(),
            mint,
            ListCollateralArgs { oracle, haircut, deposit_cap },
        );
        let landed = sb.send(&[ix], &[&fx.governance]).map_err(fail)?;
        println!("  list_collateral: {} CU", landed.compute_units);
    }

    println!("\ngovernance loosens initial weights through the timelock (at most 25 points per change)");
    for (index, initial) in [(1u8, 2_500u16), (2, 2_500), (1, 5_000), (2, 5_000)] {
        let mut params = CollateralRiskParams::of(&sb.registry().unwrap().collaterals[usize::from(index)]);
        params.haircut.initial_asset_weight_bps = initial;
        let (ix, id) =
            sb.propose_risk_change_ix(fx.governance.pubkey(), RiskChangeArgs::Collateral { index, params });
        sb.send(&[ix], &[&fx.governance]).map_err(fail)?;
        let early = sb.send(&[sb.execute_risk_change_ix(id)], &[]);
        sb.warp(DEFAULT_TIMELOCK_SECS);
        let landed = sb.send(&[sb.execute_risk_change_ix(id)], &[]).map_err(fail)?;
        println!(
            "  change #{id}: collateral {index} initial weight -> {}% (executing early: {}; after 24 h: done, {} CU)",
            initial / 100,
            if early.is_err() { "refused" } else { "ACCEPTED?!" },
            landed.compute_units
        );
    }
    // Oracles are refreshed after the clock moved.
    let q = sb.quote(15_000, 5, -2);
    sb.put_pull_oracle(sol_oracle, sol_feed, &q, true);
    let q = sb.quote(300_000, 100, -2);
    sb.put_legacy_oracle(eth_oracle, pyth, &q, 1);
    print_registry(&sb);

    let trader = sb.funded_keypair();
    let ix = sb.open_portfolio_ix(trader.pubkey(), 0);
    sb.send(&[ix], &[&trader]).map_err(fail)?;
    let portfolio = pda::portfolio(&trader.pubkey(), 0);
    println!("\ntrader opens portfolio {portfolio} and deposits 10,000 USDC, 20 SOL, 1.5 ETH");
    for (mint, amount) in [(fx.quote_mint, 10_000_000_000u64), (sol, 20_000_000_000), (eth, 150_000_000)] {
        let source = sb.create_token_account(&mint, &trader.pubkey(), amount);
        let ix = sb.deposit_ix(trader.pubkey(), portfolio, mint, source, amount);
        let landed = sb.send(&[ix], &[&trader]).map_err(fail)?;
        println!("  deposit: {} CU", landed.compute_units);
    }
    let oracles = [sol_oracle, eth_oracle];
    let (h, health_cu) = sb.health(portfolio, &oracles).map_err(fail)?;
    println!("  refresh_health ({health_cu} CU):");
    println!("    equity              {:>14.2} USDC", fx_bits_to_f64(h.equity));
    println!(
        "    initial health      {:>14.2} USDC   (gates withdrawals and new risk)",
        fx_bits_to_f64(h.initial_health)
    );
    println!(
        "    maintenance health  {:>14.2} USDC   (gates liquidation)",
        fx_bits_to_f64(h.maintenance_health)
    );

    let usdc_out = sb.create_token_account(&fx.quote_mint, &trader.pubkey(), 0);
    let ix = sb.withdraw_ix(trader.pubkey(), portfolio, fx.quote_mint, usdc_out, 2_500_000_000, &oracles);
    let landed = sb.send(&[ix], &[&trader]).map_err(fail)?;
    println!("  withdraw 2,500 USDC: done ({} CU)", landed.compute_units);
    let delegate = sb.funded_keypair();
    let ix = sb.withdraw_ix(delegate.pubkey(), portfolio, fx.quote_mint, usdc_out, 1, &oracles);
    if let Err(f) = sb.send(&[ix], &[&delegate]) {
        println!("  a stranger's withdrawal: rejected ({})", program_log_error(&f.logs));
    }

    println!("\nguardian pauses trading and liquidations");
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), pause::TRADING | pause::LIQUIDATIONS);
    let landed = sb.send(&[ix], &[&fx.guardian]).map_err(fail)?;
    println!("  set_pause: {} CU -> {}", landed.compute_units, flags(sb.exchange().unwrap().pause_flags));
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), 0);
    if let Err(failure) = sb.send(&[ix], &[&fx.guardian]) {
        println!("  guardian lifting it: rejected ({})", program_log_error(&failure.logs));
    }
    let ix = sb.set_pause_ix(fx.governance.pubkey(), 0);
    let landed = sb.send(&[ix], &[&fx.governance]).map_err(fail)?;
    println!(
        "  governance lifts it: {} CU -> {}",
        landed.compute_units,
        flags(sb.exchange().unwrap().pause_flags)
    );
    crate::demo_trading::run()?;
    crate::demo_liquidation::run(crash).map(|_| ())
}

fn haircut(maintenance: u16, tiers: &[(u64, u16, u16)]) -> Haircut {
    xmargin_sandbox::fixtures::haircut(0, maintenance, tiers)
}

fn print_exchange(sb: &Sandbox, ex: &Exchange) {
    let vault_balance = sb.token_amount(&ex.insurance_vault).unwrap_or(0);
    println!("Exchange {}", pda::exchange());
    println!("  version          {}", ex.version);
    println!("  governance       {}", ex.governance);
    println!("  guardian         {}", ex.guardian);
    println!("  quote mint       {} ({} decimals)", ex.quote_mint, ex.quote_decimals);
    println!(
        "  insurance vault  {} (balance {} USDC)",
        ex.insurance_vault,
        crate::units::ui_amount(vault_balance, ex.quote_decimals)
    );
    println!("  timelock delay   {} s ({} h)", ex.timelock_delay_secs, ex.timelock_delay_secs / 3600);
    println!("  weight step      {} bps per change", ex.max_weight_step_bps);
    println!("  pause flags      {}", flags(ex.pause_flags));
    println!("  created at       {}", crate::units::iso_utc(ex.created_at));
}

fn print_registry(sb: &Sandbox) {
    let r = sb.registry().expect("registry");
    println!("\nhaircut registry ({} collateral assets)", r.collateral_count);
    println!("  #  mint                                          oracle   initial  maint.  liab.(i/m)  tiers                      deposit cap");
    for (i, c) in r.listed_collaterals().iter().enumerate() {
        println!(
            "  {i}  {:<44}  {:<7}  {:>6}%  {:>5}%  {:>4}/{:<4}%  {:<25}  {}",
            c.mint.to_string(),
            oracle_name(c),
            c.haircut.initial_asset_weight_bps / 100,
            c.haircut.maintenance_asset_weight_bps / 100,
            c.haircut.initial_liability_weight_bps / 100,
            c.haircut.maintenance_liability_weight_bps / 100,
            tiers(c),
            crate::units::ui_amount(c.deposit_cap, c.decimals)
        );
    }
}

fn oracle_name(c: &CollateralConfig) -> &'static str {
    match c.oracle.kind {
        kind::QUOTE => "quote",
        kind::PYTH_PULL => "pull",
        kind::PYTH_LEGACY => "legacy",
        _ => "?",
    }
}

fn tiers(c: &CollateralConfig) -> String {
    let h = &c.haircut;
    let list: Vec<String> = h.tiers[..usize::from(h.tier_count)]
        .iter()
        .map(|t| {
            let units = crate::units::ui_amount(t.above, c.decimals);
            format!(">{units}: {}/{}%", t.initial_weight_bps / 100, t.maintenance_weight_bps / 100)
        })
        .collect();
    if list.is_empty() {
        "-".into()
    } else {
        list.join(", ")
    }
}

fn flags(bits: u8) -> String {
    let names: Vec<&str> = [
        (pause::DEPOSITS, "deposits"),
        (pause::WITHDRAWALS, "withdrawals"),
        (pause::TRADING, "trading"),
        (pause::LIQUIDATIONS, "liquidations"),
    ]
    .iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, name)| *name)
    .collect();
    if names.is_empty() {
        "none paused".into()
    } else {
        format!("paused: {}", names.join(", "))
    }
}

/// The "Error Message: ..." part of Anchor's error log line.
fn program_log_error(logs: &[String]) -> String {
    logs.iter()
        .find_map(|l| l.split_once("Error Message: ").map(|(_, m)| m.trim_end_matches('.').to_string()))
        .unwrap_or_else(|| "unknown error".into())
}
