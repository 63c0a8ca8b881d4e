//! `xmargin`: the sandbox demo (the compiled program in an in-process SVM), the risk
//! calculator, and later the crash backtest.
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use xmargin_cli::vol_flags::VolFlags;
use xmargin_cli::{backtest, calibrate, demo, risk, sweep};

/// `shared/data/prices` beside this checkout (found from the repository, not the working
/// directory, so the commands work from anywhere).
fn default_prices() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prices")
}

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
        #[arg(long, default_value_os_t = default_prices())]
        data: PathBuf,
    },
    /// Replay hourly prices (default: the crash windows of ../shared/data/prices) and
    /// measure how often maintenance margin missed the next day's loss, per margin model.
    Backtest {
        /// Directory of `<underlying>_usd_1h*.csv` files.
        #[arg(long, default_value_os_t = default_prices())]
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
        /// The static and adaptive lines as docs/backtest.md's Markdown tables (coverage and bad
        /// debt; procyclicality).
        #[arg(long, conflicts_with_all = ["json", "books"])]
        markdown: bool,
        /// Write an SVG chart (price; static and adaptive margin and the loss over the next
        /// horizon, % of notional) of one book, for the first underlying over the first window.
        #[arg(long)]
        chart: Option<PathBuf>,
        /// The book to chart (`--chart`), and whose hourly series `--json` carries.
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
    /// table governance would propose. `calibrate sweep`: the adaptive shock's calibration.
    #[command(args_conflicts_with_subcommands = true)]
    Calibrate {
        #[command(subcommand)]
        command: Option<CalibrateCommand>,
        /// Directory of the price files (as `backtest`).
        #[arg(long, default_value_os_t = default_prices())]
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
enum CalibrateCommand {
    /// Sweep the adaptive shock's parameters over every crash window (the backtest's replay,
    /// adaptive model, 6 books): per point, windows with coverage ≥ 99%, worst coverage, mean
    /// margin and procyclicality (bad debt for the frontier); marks the Pareto frontier and
    /// chooses the reference calibration (targets and rules: `crates/cli/src/sweep.rs`,
    /// docs/backtest.md). Loads the prices once; the default grid takes a few minutes on 2 threads.
    Sweep {
        /// Directory of the price files (as `backtest`).
        #[arg(long, default_value_os_t = default_prices())]
        data: PathBuf,
        /// Every point and the whole per-window detail as JSON.
        #[arg(long)]
        json: bool,
        /// Print every point, not only the frontier and the chosen one.
        #[arg(long)]
        all: bool,
        /// docs/backtest.md's Markdown tables: the frontier, the points meeting every target, the
        /// chosen point per window.
        #[arg(long, conflicts_with_all = ["json", "all"])]
        markdown: bool,
        /// Worker threads.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        threads: u16,
        /// Liquidation horizons, hours (comma-separated, e.g. 4,8,12,24).
        #[arg(long, value_delimiter = ',', default_values_t = [4i64, 8, 12, 24], value_parser = clap::value_parser!(i64).range(1..=720))]
        horizons: Vec<i64>,
        /// Quantile multipliers k (comma-separated).
        #[arg(long = "k", value_delimiter = ',', default_values_t = [4.0, 5.0, 6.0])]
        k: Vec<f64>,
        /// Floors of the shock, fractions of spot (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [0.15, 0.2, 0.25])]
        floors: Vec<f64>,
        /// Caps of the shock, fractions of spot (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [0.4, 0.6])]
        caps: Vec<f64>,
        /// Half-lives SHORT/LONG in hours, e.g. 12/168,3/168.
        #[arg(long, value_delimiter = ',', default_values = ["12/168", "4/168"], value_parser = parse_half_lives)]
        half_lives: Vec<(i64, i64)>,
        /// Stressed weights w_st (comma-separated; 0: none; EMIR asks ≥ 0.25), each with the data's
        /// S_st.
        #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.25, 0.5])]
        stressed_weights: Vec<f64>,
        /// S_st = k·σ·√horizon with σ this quantile of max(σ_short, σ_long) over every hourly
        /// close of the perpetual files (1 = the largest).
        #[arg(long, default_value_t = 0.99)]
        stressed_quantile: f64,
        /// Largest fall of the shock per day (one value).
        #[arg(long, default_value_t = 0.1)]
        max_decay: f64,
        /// The shortest liquidation horizon the liquidation engine can meet (docs/backtest.md): the
        /// reference is chosen among points with a horizon at least this.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(i64).range(1..=720))]
        min_horizon_hours: i64,
        /// Skip the refinement around the first choice (k ± 0.5, floor ± 1 and 2 points).
        #[arg(long)]
        no_refine: bool,
        /// Replay the bad debt of every point (default: the frontier's and the chosen one's;
        /// about five times the work).
        #[arg(long)]
        bad_debt_all: bool,
    },
}

/// `SHORT/LONG` half-lives in hours.
fn parse_half_lives(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s.split_once('/').ok_or_else(|| format!("{s:?}: expected SHORT/LONG hours, e.g. 12/168"))?;
    let hours = |x: &str| x.trim().parse::<i64>().ok().filter(|h| *h > 0);
    match (hours(a), hours(b)) {
        (Some(a), Some(b)) if a <= b => Ok((a, b)),
        _ => Err(format!("{s:?}: expected positive whole hours SHORT/LONG with SHORT ≤ LONG, e.g. 12/168")),
    }
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
        #[arg(
            long,
            allow_negative_numbers = true,
            required_unless_present = "expiry_days",
            conflicts_with = "expiry_days"
        )]
        expiry_secs: Option<i64>,
        /// Days to expiry (fractions allowed: 0.5 is 12 hours), instead of --expiry-secs.
        #[arg(long, allow_negative_numbers = true)]
        expiry_days: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Portfolio margin of one or more portfolio files (schema in docs/risk-model.md).
    Margin {
        #[arg(required = true, num_args = 1..)]
        portfolio: Vec<PathBuf>,
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
        Command::Backtest {
            data,
            underlying,
            window,
            csv,
            json,
            markdown,
            chart,
            book,
            books,
            offset_rho,
            vol,
        } => backtest::run(&backtest::Args {
            data,
            underlyings: underlying,
            window,
            csv,
            json,
            markdown,
            chart,
            chart_book: book,
            vol: vol.params(),
            books,
            offset_rho,
        }),
        Command::Calibrate { command: None, data, json, vol } => {
            calibrate::run(&calibrate::Args { data, json, vol: vol.params() })
        }
        Command::Calibrate {
            command:
                Some(CalibrateCommand::Sweep {
                    data,
                    json,
                    all,
                    markdown,
                    threads,
                    horizons,
                    k,
                    floors,
                    caps,
                    half_lives,
                    stressed_weights,
                    stressed_quantile,
                    max_decay,
                    min_horizon_hours,
                    no_refine,
                    bad_debt_all,
                }),
            ..
        } => sweep::run(&sweep::Args {
            data,
            json,
            threads: usize::from(threads),
            grid: sweep::Grid {
                horizons_hours: horizons,
                k,
                floors,
                caps,
                half_lives_hours: half_lives,
                stressed_weights,
                max_decay,
            },
            min_horizon_hours,
            refine: !no_refine,
            all,
            stressed_quantile,
            bad_debt_all,
            markdown,
        }),
        Command::Risk { command } => match command {
            RiskCommand::Greeks { kind, spot, strike, vol, expiry_secs, expiry_days, json } => {
                let expiry_secs = match (expiry_secs, expiry_days) {
                    (Some(secs), _) => secs,
                    (None, Some(days)) => risk::days_to_seconds(days)?,
                    (None, None) => anyhow::bail!("--expiry-secs or --expiry-days is required"),
                };
                risk::run_greeks(&risk::GreeksArgs { kind, spot, strike, vol, expiry_secs, json })
            }
            RiskCommand::Margin { portfolio, json, full } => risk::run_margins(&portfolio, json, full),
        },
    }
}
