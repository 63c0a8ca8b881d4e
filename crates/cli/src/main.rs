//! `xmargin`: the sandbox demo (the compiled program in an in-process SVM), the risk
//! calculator, and later the crash backtest.
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use xmargin_cli::vol_flags::VolFlags;
use xmargin_cli::{backtest, calibrate, demo, risk};

#[derive(Parser)]
#[command(name = "xmargin", version, about = "xmargin portfolio-margin venue: sandbox and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot the compiled program in an in-process SVM, initialize an exchange and print it,
    /// trade two portfolio-margined books, then crash SOL and liquidate a thin book.
    Demo {
        /// Replay SOL's hourly closes of this window (`YYYY-MM-DD..YYYY-MM-DD`, e.g.
        /// 2022-11-08..2022-11-09) instead of the built-in crash path.
        #[arg(long)]
        crash_window: Option<String>,
        /// Directory of the price files.
        #[arg(long, default_value = "../shared/data/prices")]
        data: PathBuf,
    },
    /// Replay hourly prices (default: the crash windows of ../shared/data/prices) and
    /// measure how often maintenance margin missed the next day's loss, per margin model.
    Backtest {
        /// Directory of `<underlying>_usd_1h*.csv` files.
        #[arg(long, default_value = "../shared/data/prices")]
        data: PathBuf,
        /// Underlyings to replay.
        #[arg(long, value_delimiter = ',', default_value = "BTC,ETH,SOL")]
        underlying: Vec<String>,
        /// `YYYY-MM-DD..YYYY-MM-DD` (inclusive); default: every crash window.
        #[arg(long)]
        window: Option<String>,
        /// One CSV to replay instead of the data directory (timestamp_utc,open,high,low,close,volume).
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Write an SVG chart (price; static and adaptive margin and the next-24 h loss, % of
        /// notional) of one book, for the first underlying over the first window.
        #[arg(long)]
        chart: Option<PathBuf>,
        /// The book to chart.
        #[arg(long, value_enum, default_value = "short-strangle")]
        book: backtest::replay::Book,
        /// Replay the multi-asset books that use the engine's credits (cash-and-carry per
        /// underlying, β-matched pairs both ways, covered call on spot collateral,
        /// conversion), without and with the reference credits side by side.
        #[arg(long)]
        books: bool,
        /// With --books: replay the pairs with this offset credit ρ (a group of the pair's
        /// two underlyings) instead of the reference calibration's groups.
        #[arg(long, requires = "books")]
        offset_rho: Option<f64>,
        #[command(flatten)]
        vol: VolFlags,
    },
    /// Estimate the offset and link parameters from the price data: per pair, hourly-return
    /// correlations (whole sample, crash windows, 30-day rolling) and the largest offset
    /// credit ρ whose pair books add no bad debt and no breach on any crash window; per
    /// underlying, the perp/spot basis moves within the liquidation horizon. Prints the
    /// table governance would propose.
    Calibrate {
        /// Directory of the price files (as `backtest`).
        #[arg(long, default_value = "../shared/data/prices")]
        data: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vol: VolFlags,
    },
    /// Risk calculator: the same engine the program runs.
    Risk {
        #[command(subcommand)]
        command: RiskCommand,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Price and Greeks of one European option (Black-Scholes, r = 0).
    Greeks {
        /// call or put
        #[arg(long)]
        kind: String,
        #[arg(long)]
        spot: f64,
        #[arg(long)]
        strike: f64,
        /// Implied volatility as a fraction per √year (0.6 = 60%).
        #[arg(long, allow_negative_numbers = true)]
        vol: f64,
        /// Seconds to expiry (365-day year).
        #[arg(long, allow_negative_numbers = true)]
        expiry_secs: i64,
        #[arg(long)]
        json: bool,
    },
    /// Portfolio margin of a portfolio file (schema in the README).
    Margin {
        portfolio: PathBuf,
        #[arg(long)]
        json: bool,
        /// Also fully revalue every option at every scenario and compare.
        #[arg(long)]
        full: bool,
    },
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        // One line per cause ("in FILE: positions[2].kind: unknown kind ..."), exit code 1.
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { crash_window, data } => {
            demo::run(&xmargin_cli::demo_liquidation::CrashArgs { window: crash_window, data })
        }
        Command::Backtest { data, underlying, window, csv, json, chart, book, books, offset_rho, vol } => {
            backtest::run(&backtest::Args {
                data,
                underlyings: underlying,
                window,
                csv,
                json,
                chart,
                chart_book: book,
                vol: vol.params(),
                books,
                offset_rho,
            })
        }
        Command::Calibrate { data, json, vol } => {
            calibrate::run(&calibrate::Args { data, json, vol: vol.params() })
        }
        Command::Risk { command } => match command {
            RiskCommand::Greeks { kind, spot, strike, vol, expiry_secs, json } => {
                risk::run_greeks(&risk::GreeksArgs { kind, spot, strike, vol, expiry_secs, json })
            }
            RiskCommand::Margin { portfolio, json, full } => risk::run_margin(&portfolio, json, full),
        },
    }
}
