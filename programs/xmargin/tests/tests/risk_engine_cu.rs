//! The risk engine's on-chain cost, measured with the risk-bench program (programs/risk-bench)
//! on the reference 32-position, 8-underlying, 8-collateral portfolio (24 options, 8 perps).
//! Prints each stage's cost. Guards what is established: a Black-Scholes evaluation stays
//! under 15k CU (measured ≈ 13k) and the whole margin computation fits one transaction
//! (measured ≈ 842k). The trading issue's budget is ≤ 100k CU: not met yet.
use solana_instruction::Instruction;
use xmargin_sandbox::{cu, Pubkey, Sandbox};

const BENCH_ID: Pubkey = Pubkey::from_str_const("RiskBench1111111111111111111111111111111111");
const TX_LIMIT: u64 = 1_400_000;

/// Compute units left at each `sol_log_compute_units` call, in order.
fn remaining(logs: &[String]) -> Vec<u64> {
    logs.iter()
        .filter_map(|l| l.split("Program consumption: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Runs a stage; returns the CU spent between its first two marks, or None if it did not
/// finish within the transaction limit.
fn stage(sb: &mut Sandbox, stage: u8) -> Option<u64> {
    let ix = Instruction { program_id: BENCH_ID, accounts: vec![], data: vec![stage] };
    let budget =
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(TX_LIMIT as u32);
    match sb.send(&[budget, ix], &[]) {
        Ok(landed) => {
            let marks = remaining(&landed.logs);
            Some(marks[0] - marks[marks.len() - 1])
        }
        Err(f) if f.logs.iter().any(|l| l.contains("exceeded CUs meter")) => None,
        Err(f) => panic!("stage {stage} failed: {f}"),
    }
}

#[test]
fn risk_engine_cost_on_sbpf() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target/deploy/risk_bench.so");
    let bytes = std::fs::read(&path).unwrap_or_else(|_| panic!("{} missing: run `make sbf`", path.display()));
    let mut sb = Sandbox::new().unwrap_or_else(|e| panic!("{e}"));
    sb.svm.add_program(BENCH_ID, &bytes).expect("load risk-bench");
    let show = |cu: Option<u64>| {
        cu.map_or(format!("over {TX_LIMIT} (does not fit a transaction)"), |c| format!("{c}"))
    };
    println!("risk engine on sBPF (CU):");
    let primitives = [
        (4u8, "I80F48 multiply"),
        (5, "I80F48 divide"),
        (7, "exp"),
        (12, "ln"),
        (13, "sqrt"),
        (14, "normal CDF"),
        (8, "Black-Scholes price + Greeks"),
    ];
    for (s, name) in primitives {
        let cu = stage(&mut sb, s).expect("primitive fits");
        println!("  {name:<32} {:>8} each", cu / 10);
        if s == 8 {
            assert!(cu / 10 <= 15_000, "a Black-Scholes evaluation costs {} CU", cu / 10);
        }
    }
    for (s, name) in [
        (30u8, "i64 multiply"),
        (31, "i64 × i64 → i128"),
        (32, "i64 × i64 >> 20 → i64"),
        (33, "u64 divide"),
        (34, "i128 divide"),
    ] {
        let cu = stage(&mut sb, s).expect("primitive fits");
        println!("  {name:<32} {:>8} each (×10)", cu / 10);
    }
    let netting = stage(&mut sb, 1);
    println!("  netting 32 positions (24 options)  {}", show(netting));
    assert!(netting.is_some(), "netting must fit one transaction");
    println!("  collateral, 8 assets, both levels  {}", show(stage(&mut sb, 3)));
    println!("  netting + grid, 8 × 2 levels       {}", show(stage(&mut sb, 2)));
    let whole = stage(&mut sb, 0);
    println!("  whole margin()                     {}", show(whole));
    assert!(whole.is_some(), "the whole margin computation must fit one transaction");
    // The adaptive grid reads a stored shock instead of a constant and runs no estimator code,
    // so health costs the same work; only the numbers differ, and fixed-point division and
    // exp/ln cost depends on their operands (measured +5%, 842k → 886k CU).
    let adaptive = stage(&mut sb, 15);
    println!("  whole margin(), adaptive shocks    {}", show(adaptive));
    let (whole, adaptive) =
        (whole.unwrap_or(TX_LIMIT), adaptive.expect("adaptive margin fits one transaction"));
    cu::record("risk engine margin()", "32 positions, static grid", whole, TX_LIMIT);
    cu::record("risk engine margin()", "32 positions, adaptive shocks", adaptive, TX_LIMIT);
    assert!(adaptive * 100 <= whole * 110, "adaptive {adaptive} vs static {whole} CU");
}
