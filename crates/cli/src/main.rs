//! `xmargin`: the sandbox demo (the compiled program in an in-process SVM), and later the
//! risk calculator and the crash backtest.
use anyhow::Result;
use clap::{Parser, Subcommand};

mod demo;

#[derive(Parser)]
#[command(name = "xmargin", version, about = "xmargin portfolio-margin venue: sandbox and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot the compiled program in an in-process SVM, initialize an exchange and print it.
    Demo,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo => demo::run(),
    }
}
