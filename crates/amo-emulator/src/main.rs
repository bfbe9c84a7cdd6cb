//! `amo-emulator`: runs the emulator on 127.0.0.1 and prints its address and credentials.

use std::io::Write as _;
use std::process::ExitCode;

use amo_emulator::{Emulator, EmulatorConfig};
use clap::Parser;
use serde_json::json;

/// A local amoCRM emulator for amo-connector's tests and trials.
#[derive(Debug, Parser)]
#[command(name = "amo-emulator", version)]
struct Args {
    /// Port to bind on 127.0.0.1 for the first account (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The integration's client id (generated when absent).
    #[arg(long)]
    client_id: Option<String>,
    /// The integration's client secret (generated when absent).
    #[arg(long)]
    client_secret: Option<String>,
    /// The registered redirect URI.
    #[arg(long, default_value = amo_emulator::DEFAULT_REDIRECT_URI)]
    redirect_uri: String,
    /// The emulated account's name.
    #[arg(long, default_value = amo_emulator::DEFAULT_ACCOUNT_NAME)]
    account_name: String,
    /// The emulated account's id.
    #[arg(long, default_value_t = amo_emulator::DEFAULT_ACCOUNT_ID)]
    account_id: u64,
    /// Grant at once on GET /oauth instead of showing the consent page.
    #[arg(long)]
    auto_approve: bool,
    /// Access token lifetime in seconds.
    #[arg(long = "access-ttl", default_value_t = amo_emulator::DEFAULT_ACCESS_TTL_SECS)]
    access_ttl: u64,
    /// How many accounts to serve, each on its own 127.0.0.1 port ("Account 1", ...).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    accounts: u16,
    /// How many integrations are installed (the first with --client-id, --client-secret).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    integrations: u16,
    /// Enforce amoCRM's rate limits (7 requests a second per integration, 50 per account):
    /// answer 429 beyond them.
    #[arg(long)]
    rate_limits: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = EmulatorConfig::new();
    if let Some(id) = args.client_id {
        config.client_id = id;
    }
    if let Some(secret) = args.client_secret {
        config.client_secret = secret;
    }
    config.redirect_uri = args.redirect_uri;
    config.account_name = args.account_name;
    config.account_id = args.account_id;
    config.auto_approve = args.auto_approve;
    config.access_ttl_secs = args.access_ttl;
    config.port = args.port;
    config.accounts = usize::from(args.accounts);
    config.integrations = usize::from(args.integrations);
    config = config.rate_limits(args.rate_limits);

    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("amo-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let line = json!({
        "base_url": emulator.base_url(),
        "account_host": emulator.account_host(),
        "client_id": emulator.client_id(),
        "client_secret": emulator.client_secret(),
        "redirect_uri": emulator.redirect_uri(),
        "account_hosts": emulator.account_hosts(),
        "accounts": emulator.accounts(),
        "integrations": emulator.integrations(),
        "rate_limits": emulator.config().rate_limits,
    });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        eprintln!("amo-emulator: cannot write to stdout");
    }
    drop(out);
    eprintln!(
        "amo-emulator: serving {base}\n  authorize: {base}/oauth?client_id={id}&state=...\n  \
         client_id: {id}\n  client_secret: {secret}\n  redirect_uri: {uri}\n  \
         controls: {base}/_emulator/stats (Ctrl-C to stop)",
        base = emulator.base_url(),
        id = emulator.client_id(),
        secret = emulator.client_secret(),
        uri = emulator.redirect_uri(),
    );
    wait_for_stop().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
