//! The sandbox demo: everything runs against the compiled sBPF program in LiteSVM.
use anyhow::{anyhow, Result};
use solana_signer::Signer;
use xmargin::state::{pause, Exchange};
use xmargin_sandbox::{pda, program_so_path, Sandbox};

pub fn run() -> Result<()> {
    let so = program_so_path();
    let size = std::fs::metadata(&so).map(|m| m.len()).unwrap_or(0);
    println!("xmargin sandbox: LiteSVM with {} ({} bytes)", so.display(), size);
    println!("program id: {}\n", xmargin::ID);

    let (mut sb, fx) = Sandbox::with_exchange().map_err(|e| anyhow!("{e}"))?;
    println!("initialize_exchange (signed by the upgrade authority): {} CU", fx.init_compute_units);
    print_exchange(&sb, &sb.exchange().ok_or_else(|| anyhow!("exchange not found"))?);

    println!("\nguardian pauses trading and liquidations");
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), pause::TRADING | pause::LIQUIDATIONS);
    let landed = sb.send(&[ix], &[&fx.guardian]).map_err(|f| anyhow!("{f}"))?;
    println!("  set_pause: {} CU -> {}", landed.compute_units, flags(sb.exchange().unwrap().pause_flags));

    println!("guardian tries to lift the pause");
    let ix = sb.set_pause_ix(fx.guardian.pubkey(), 0);
    match sb.send(&[ix], &[&fx.guardian]) {
        Ok(_) => return Err(anyhow!("the guardian was able to unpause")),
        Err(failure) => println!("  rejected: {}", program_log_error(&failure.logs)),
    }
    println!("governance lifts it");
    let ix = sb.set_pause_ix(fx.governance.pubkey(), 0);
    let landed = sb.send(&[ix], &[&fx.governance]).map_err(|f| anyhow!("{f}"))?;
    println!("  set_pause: {} CU -> {}", landed.compute_units, flags(sb.exchange().unwrap().pause_flags));
    Ok(())
}

fn print_exchange(sb: &Sandbox, ex: &Exchange) {
    let vault_balance = sb.token_amount(&ex.insurance_vault).unwrap_or(0);
    let scale = 10u64.pow(u32::from(ex.quote_decimals));
    println!("Exchange {}", pda::exchange());
    println!("  version          {}", ex.version);
    println!("  governance       {}", ex.governance);
    println!("  guardian         {}", ex.guardian);
    println!("  quote mint       {} ({} decimals)", ex.quote_mint, ex.quote_decimals);
    println!(
        "  insurance vault  {} (balance {}.{:0width$})",
        ex.insurance_vault,
        vault_balance / scale,
        vault_balance % scale,
        width = usize::from(ex.quote_decimals)
    );
    println!("  timelock delay   {} s ({} h)", ex.timelock_delay_secs, ex.timelock_delay_secs / 3600);
    println!("  pause flags      {}", flags(ex.pause_flags));
    println!("  created at       {} (unix seconds)", ex.created_at);
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
        .find_map(|l| l.split_once("Error Message: ").map(|(_, m)| m.to_string()))
        .unwrap_or_else(|| "unknown error".into())
}
