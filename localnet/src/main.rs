//! xmargin-localnet: an offline local Solana JSON-RPC network for operators and end-to-end tests.
//!
//! It embeds surfpool-core (a Solana JSON-RPC + websocket server on top of LiteSVM) instead of
//! running solana-test-validator: it builds in minutes rather than the agave validator's much
//! longer build, and starts in well under a second. It never forks a remote cluster: there is no
//! network here, and tests must not depend on one.
//!
//! Usage: see `USAGE` below, or `localnet/README.md`.

use std::{
    io::Write,
    path::PathBuf,
    process::ExitCode,
    str::FromStr,
    sync::mpsc,
    time::{Duration, Instant},
};

use solana_pubkey::Pubkey;
use surfpool_core::{
    runloops::start_local_surfnet_runloop,
    surfnet::{
        locker::SurfnetSvmLocker,
        svm::{SurfnetSvm, SurfnetSvmConfig},
    },
};
use surfpool_types::{
    BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
};

const USAGE: &str = "\
usage: xmargin-localnet [--rpc-port N] [--ws-port N] [--slot-time-ms N]
                        [--program <PROGRAM_ID>=<PATH.so>]... [--upgrade-authority <PUBKEY>]

  --rpc-port           HTTP JSON-RPC port on 127.0.0.1 (default 8899)
  --ws-port            websocket (pubsub) port on 127.0.0.1 (default 8900)
  --slot-time-ms       block time (default 100); a blockhash stays valid for 150 slots
  --program            deploy PATH.so at PROGRAM_ID as an upgradeable (loader v3) program;
                       repeatable
  --upgrade-authority  upgrade authority written into each program's ProgramData account
                       (default: the system program, i.e. nobody can act as the authority)";

struct Args {
    rpc_port: u16,
    ws_port: u16,
    /// 100 ms confirms a transaction within ~0.1 s while keeping a blockhash valid for
    /// 150 slots = 15 s; at 50 ms that window shrinks to 7.5 s, short enough to expire a
    /// blockhash fetched at the start of a slow multi-signer test step.
    slot_time_ms: u64,
    programs: Vec<(Pubkey, PathBuf)>,
    upgrade_authority: Option<Pubkey>,
}

impl Args {
    fn parse(mut argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = Args {
            rpc_port: 8899,
            ws_port: 8900,
            slot_time_ms: 100,
            programs: vec![],
            upgrade_authority: None,
        };
        while let Some(flag) = argv.next() {
            if flag == "-h" || flag == "--help" {
                let _ = writeln!(std::io::stdout(), "{USAGE}");
                std::process::exit(0);
            }
            const FLAGS: [&str; 5] =
                ["--rpc-port", "--ws-port", "--slot-time-ms", "--program", "--upgrade-authority"];
            if !FLAGS.contains(&flag.as_str()) {
                return Err(format!("unknown flag {flag}"));
            }
            let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
            match flag.as_str() {
                "--rpc-port" => args.rpc_port = value.parse().map_err(|e| bad(&e))?,
                "--ws-port" => args.ws_port = value.parse().map_err(|e| bad(&e))?,
                "--slot-time-ms" => match value.parse() {
                    Ok(0) | Err(_) => return Err(bad(&"expected a positive integer")),
                    Ok(ms) => args.slot_time_ms = ms,
                },
                "--program" => {
                    let (id, path) =
                        value.split_once('=').ok_or_else(|| bad(&"expected <PROGRAM_ID>=<PATH.so>"))?;
                    let id = Pubkey::from_str(id).map_err(|e| bad(&e))?;
                    args.programs.push((id, PathBuf::from(path)));
                }
                "--upgrade-authority" => {
                    args.upgrade_authority = Some(Pubkey::from_str(&value).map_err(|e| bad(&e))?)
                }
                _ => unreachable!("checked against FLAGS above"),
            }
        }
        Ok(args)
    }
}

/// What the main thread waits for: the surfnet being ready, a signal, or the runloop ending.
enum Lifecycle {
    Ready,
    Signal(&'static str),
    Stopped(Result<(), String>),
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("localnet: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("localnet: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let started = Instant::now();
    // The runloop is an async fn that blocks its thread in crossbeam `select!`, so it gets a
    // thread and a runtime of its own (as surfpool's own tests run it), not a task on ours.
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;

    let (svm, simnet_events_rx, geyser_events_rx) = SurfnetSvm::new(SurfnetSvmConfig {
        // The SVM and the runloop must agree on the slot time (surfpool's CLI sets both).
        slot_time: args.slot_time_ms,
        // Profiling re-executes every transaction instruction by instruction in a cloned SVM
        // (for surfnet_getTransactionProfile); end-to-end tests pay for it on each send.
        instruction_profiling_enabled: false,
        ..SurfnetSvmConfig::default()
    })
    .map_err(|e| format!("creating the SVM: {e}"))?;
    let svm_locker = SurfnetSvmLocker::new(svm);

    // Deploy before the RPC server exists, so no client can observe a half-deployed program.
    // `write_program` is what the surfnet_writeProgram cheatcode calls: it creates the program
    // account (owner BPFLoaderUpgradeab1e…, executable) and its ProgramData account with the
    // given upgrade authority (surfpool writes the system program when given none: LiteSVM
    // rejects a ProgramData without one), and makes LiteSVM compile the ELF.
    for (program_id, path) in &args.programs {
        let elf = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        runtime
            .block_on(svm_locker.write_program(*program_id, args.upgrade_authority, 0, &elf, &None))
            .map_err(|e| format!("deploying {} at {program_id}: {e}", path.display()))?;
    }

    let config = SurfpoolConfig {
        simnets: vec![SimnetConfig {
            // Offline: never fetch missing accounts from (or fork) a remote cluster.
            offline_mode: true,
            remote_rpc_url: None,
            slot_time: args.slot_time_ms,
            // A block every slot_time, so confirmations arrive without anyone asking for them.
            block_production_mode: BlockProductionMode::Clock,
            instruction_profiling_enabled: false,
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            // Loopback only: this is a test network with cheatcodes that rewrite any account.
            bind_host: "127.0.0.1".to_string(),
            bind_port: args.rpc_port,
            ws_port: args.ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    };

    let (lifecycle_tx, lifecycle_rx) = mpsc::channel::<Lifecycle>();

    // The events channel is bounded and lifecycle events (e.g. every TransactionProcessed) block
    // until read, so it must be drained for as long as the surfnet runs, not just until ready.
    let events_tx = lifecycle_tx.clone();
    std::thread::Builder::new()
        .name("surfnet events".into())
        .spawn(move || {
            for event in simnet_events_rx {
                match event {
                    SimnetEvent::CoreStarted(_) => {
                        let _ = events_tx.send(Lifecycle::Ready);
                    }
                    SimnetEvent::Aborted(reason) => {
                        let _ = events_tx.send(Lifecycle::Stopped(Err(reason)));
                    }
                    SimnetEvent::ErrorLog(_, msg) => eprintln!("localnet: error: {msg}"),
                    SimnetEvent::WarnLog(_, msg) => eprintln!("localnet: warning: {msg}"),
                    _ => {}
                }
            }
        })
        .map_err(|e| format!("spawning the events thread: {e}"))?;

    let (commands_tx, commands_rx) = crossbeam_channel::unbounded::<SimnetCommand>();
    let runloop_tx = lifecycle_tx.clone();
    let runloop_commands_tx = commands_tx.clone();
    std::thread::Builder::new()
        .name("surfnet runloop".into())
        .spawn(move || {
            let result = runtime
                .block_on(start_local_surfnet_runloop(
                    svm_locker,
                    config,
                    runloop_commands_tx,
                    commands_rx,
                    geyser_events_rx,
                ))
                .map_err(|e| e.to_string());
            let _ = runloop_tx.send(Lifecycle::Stopped(result));
        })
        .map_err(|e| format!("spawning the runloop thread: {e}"))?;

    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let signals = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let name = signals.map_err(|e| e.to_string()).and_then(|rt| {
                rt.block_on(async {
                    use tokio::signal::unix::{SignalKind, signal};
                    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
                    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
                    Ok(tokio::select! {
                        _ = int.recv() => "SIGINT",
                        _ = term.recv() => "SIGTERM",
                    })
                })
            });
            let _ = lifecycle_tx.send(match name {
                Ok(name) => Lifecycle::Signal(name),
                Err(e) => Lifecycle::Stopped(Err(format!("installing signal handlers: {e}"))),
            });
        })
        .map_err(|e| format!("spawning the signals thread: {e}"))?;

    loop {
        match lifecycle_rx.recv() {
            Ok(Lifecycle::Ready) => {
                // Tests and scripts wait for exactly this line on stdout (a reader that then
                // closes the pipe must not make us panic, hence no println!).
                let _ = writeln!(
                    std::io::stdout(),
                    "localnet ready rpc=http://127.0.0.1:{} ws=ws://127.0.0.1:{} ({} ms)",
                    args.rpc_port,
                    args.ws_port,
                    started.elapsed().as_millis()
                );
            }
            Ok(Lifecycle::Signal(name)) => {
                eprintln!("localnet: {name}, stopping");
                let _ = commands_tx.send(SimnetCommand::Terminate(None));
                // The runloop returns at its next command, having closed the RPC servers. Wait
                // for that, not for its thread: dropping its runtime waits on blocking tasks
                // that never end. State is in memory only, so exiting loses nothing else.
                let deadline = Instant::now() + Duration::from_secs(3);
                while let Ok(event) =
                    lifecycle_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    if let Lifecycle::Stopped(_) = event {
                        break;
                    }
                }
                return Ok(());
            }
            Ok(Lifecycle::Stopped(result)) => {
                return result.and(Err("the surfnet stopped".to_string()));
            }
            Err(_) => return Err("all surfnet threads ended".to_string()),
        }
    }
}
