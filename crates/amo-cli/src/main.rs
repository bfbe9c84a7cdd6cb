//! `amo`: the command-line twin of amo-connector, a thin shell on the engine.

mod output;
// The local API proxy: `amo proxy`, `amo run --proxy`.
mod proxy;
mod script;
mod status;

use std::io::Read;
use std::process::ExitCode;

use amo_core::{autostart, ClientSecret, ConnectOptions, Engine, Error, Lang, NewSettings};
use clap::{Parser, Subcommand};

use output::Out;

#[derive(Parser)]
#[command(
    name = "amo",
    version,
    about = "Connect an amoCRM or Kommo account to this computer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect an account: through the browser, or with a pasted address, code or token.
    Connect {
        /// Print the address instead of opening the browser.
        #[arg(long)]
        no_browser: bool,
        /// Stop waiting after this many seconds (at most the link's 15 minutes).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// Finish with the full address the browser ended on (`-`: read it from stdin).
        #[arg(long, value_name = "URL", conflicts_with_all = ["code", "long_lived_token"])]
        paste: Option<String>,
        /// Exchange an authorization code from the integration's Keys and scopes tab (`-`:
        /// read it from stdin, out of `ps` and the shell's history).
        #[arg(
            long,
            value_name = "CODE",
            requires = "account",
            conflicts_with = "long_lived_token"
        )]
        code: Option<String>,
        /// Store a long-lived token read from standard input.
        #[arg(long, requires = "account")]
        long_lived_token: bool,
        /// Connect with this added integration (its client ID) and keep it chosen.
        #[arg(long, value_name = "CLIENT_ID")]
        integration: Option<String>,
        /// The account's host, such as example.amocrm.ru.
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
    },
    /// Show every connection, or those the filters choose, and whether it is usable.
    Status {
        #[command(flatten)]
        args: status::StatusArgs,
    },
    /// Refresh an account's tokens now.
    Refresh {
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
    },
    /// Call /api/v4/account, refreshing the tokens first if needed.
    Account {
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print an access token valid for at least --min-valid, refreshing it first if needed.
    /// Exit 1: no connection; 2: the connection must be made again.
    Token {
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
        /// How long the token must stay valid: 90s, 30m, 2h.
        #[arg(long, value_name = "DURATION", default_value = "5m")]
        min_valid: String,
        /// {"account","access_token","expires_at","api_base"}.
        #[arg(long)]
        json: bool,
    },
    /// Call the amoCRM API: PATH is relative to https://{account}/ (api/v4/leads).
    Api {
        #[command(flatten)]
        args: script::ApiArgs,
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
    },
    /// Run a command with AMO_ACCESS_TOKEN, AMO_ACCOUNT_HOST and AMO_API_BASE set; its exit
    /// status is passed through.
    Run {
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
        /// Give the command a local proxy instead of the token: AMO_API_BASE points at it and
        /// AMO_ACCESS_TOKEN is its key, valid while the command runs (the proxy renews the
        /// token itself, so --min-valid does not apply).
        #[arg(long)]
        proxy: bool,
        /// How long the token must stay valid: 90s, 30m, 2h.
        #[arg(long, value_name = "DURATION", default_value = "30m")]
        min_valid: String,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Serve the account's API on this computer until Ctrl+C: calls to the printed address
    /// with the printed key go to the account with its token, refreshed as needed, at most
    /// 7 a second.
    Proxy {
        #[command(flatten)]
        args: proxy::ProxyArgs,
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
    },
    /// Print the key of the always-on proxy (`amo config set proxy on`), kept in the
    /// keychain; with --rotate, replace it first: the old key stops working at once.
    ProxyKey {
        /// Replace the key first; programs holding the old one get 401 from then on.
        #[arg(long)]
        rotate: bool,
    },
    /// Remove an account's tokens from the keychain and its record from the database.
    Disconnect {
        #[arg(long, value_name = "HOST")]
        account: Option<String>,
    },
    /// Delete expired sign-in states.
    Cleanup,
    /// List the integrations added: client ID, platform, whether the secret is stored, how
    /// many connections use each, and which one new connections are made with.
    Integrations {
        /// A JSON list for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show or change the settings.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Show the settings in force.
    Show,
    /// Set client_id, redirect_uri, platform, lang, autostart (on|off: start at login in the
    /// tray), notifications (on|off), proxy (on|off: the tray serves the local API on a fixed
    /// port), proxy_port or proxy_account (empty: the only connection); client_secret is
    /// read from stdin.
    Set { key: String, value: Option<String> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let engine = match Engine::open() {
        Ok(e) => e,
        Err(e) => return Out::new(Lang::detect()).fail(&e, None),
    };
    let out = Out::new(engine.lang());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let rt = rt.expect("a tokio runtime starts");
    // `amo token` and `amo run` tell "no connection" (1) from "connect again" (2).
    let for_scripts = matches!(cli.command, Command::Token { .. } | Command::Run { .. });
    match rt.block_on(run(&engine, &out, cli.command)) {
        Ok(code) => code,
        Err(e) if for_scripts && e.needs_reconnect() => {
            out.fail(&e, Some(engine.log_path()));
            let account = match &e {
                Error::ReconnectNeeded { account, .. }
                | Error::KeychainRefusedNewTokens { account, .. } => account.clone(),
                _ => String::new(),
            };
            eprintln!(
                "amo: {}",
                out.tr("cli.token_reconnect", &[("account", &account)])
            );
            ExitCode::from(2)
        }
        Err(e) => out.fail(&e, Some(engine.log_path())),
    }
}

async fn run(engine: &Engine, out: &Out, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Connect {
            no_browser,
            timeout,
            paste,
            code,
            long_lived_token,
            account,
            integration,
        } => {
            if let Some(id) = integration {
                engine.choose_integration(&id)?;
            }
            let status = if let Some(url) = paste {
                let url = value_or_stdin(out, url)?;
                engine.connect_pasted_url(&url).await?
            } else if let Some(code) = code {
                let code = value_or_stdin(out, code)?;
                engine
                    .connect_with_code(&code, account.as_deref().unwrap_or_default())
                    .await?
            } else if long_lived_token {
                let token = read_stdin(out)?;
                engine
                    .connect_long_lived(&token, account.as_deref().unwrap_or_default())
                    .await?
            } else {
                let opts = ConnectOptions {
                    open_browser: !no_browser,
                    timeout: timeout.map(std::time::Duration::from_secs),
                };
                // Listened for before the address is printed: Ctrl+C from then on cancels.
                let mut interrupt = Interrupt::listen();
                let pending = engine.start_connect(opts).await?;
                out.waiting(&pending);
                let cancel = pending.cancel_handle();
                let exchanging = pending.exchanging_flag();
                let wait = pending.wait();
                tokio::pin!(wait);
                tokio::select! {
                    r = &mut wait => r?,
                    () = interrupt.recv() => {
                        // An exchange under way finishes: report what really happened.
                        cancel.cancel();
                        if exchanging() {
                            out.note("cli.finishing_exchange");
                        }
                        tokio::select! {
                            r = &mut wait => r?,
                            () = interrupt.recv() => return Err(Error::Cancelled),
                        }
                    }
                }
            };
            out.connected(&status);
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { args } => status::run(engine, out, args),
        Command::Refresh { account } => {
            let account = engine.resolve_account(account.as_deref())?;
            let status = engine.refresh(&account).await?;
            out.refreshed(&status);
            Ok(ExitCode::SUCCESS)
        }
        Command::Account { account, json } => {
            let account = engine.resolve_account(account.as_deref())?;
            let info = engine.account_info(&account).await?;
            out.account(&account, &info, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            account,
            min_valid,
            json,
        } => {
            let account = engine.resolve_account(account.as_deref())?;
            script::token(engine, &account, &min_valid, json).await
        }
        Command::Api { args, account } => {
            let account = engine.resolve_account(account.as_deref())?;
            script::api(engine, &account, args).await
        }
        Command::Run {
            account,
            proxy: true,
            command,
            ..
        } => {
            let account = engine.resolve_account(account.as_deref())?;
            proxy::run(engine, out, &account, &command).await
        }
        Command::Run {
            account,
            min_valid,
            command,
            ..
        } => {
            let account = engine.resolve_account(account.as_deref())?;
            script::run(engine, out, &account, &min_valid, &command).await
        }
        Command::Proxy { args, account } => {
            let account = engine.resolve_account(account.as_deref())?;
            proxy::serve(engine, out, &account, args).await
        }
        Command::ProxyKey { rotate } => {
            if rotate {
                engine.rotate_hosted_proxy_key()?;
                out.note("cli.proxy_key_rotated");
            }
            println!("{}", engine.hosted_proxy_key()?.expose());
            Ok(ExitCode::SUCCESS)
        }
        Command::Disconnect { account } => {
            let account = engine.resolve_account(account.as_deref())?;
            engine.disconnect(&account)?;
            out.line("cli.disconnected", &[("account", account.as_str())]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Integrations { json } => {
            out.integrations(&engine.integrations()?, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Cleanup => {
            let n = engine.cleanup()?;
            out.line("cli.cleanup", &[("n", &n.to_string())]);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Show,
        } => {
            out.config(engine)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Set { key, value },
        } => {
            if let Some(code) = set_switch(engine, out, &key, value.as_deref())? {
                return Ok(code);
            }
            let mut new = NewSettings::default();
            let value = match key.as_str() {
                "client_secret" => {
                    if value.is_some() {
                        return Err(Error::InvalidInput {
                            field: "client_secret",
                            value: "(given on the command line; pipe it on stdin instead)".into(),
                        });
                    }
                    new.client_secret = Some(ClientSecret::new(read_stdin(out)?));
                    String::new()
                }
                _ => value.ok_or(Error::InvalidInput {
                    field: "value",
                    value: String::new(),
                })?,
            };
            match key.as_str() {
                "client_secret" => {}
                "client_id" => new.client_id = Some(value),
                "redirect_uri" => new.redirect_uri = Some(value),
                "platform" => new.platform = Some(value),
                "lang" => new.lang = Some(value),
                _ => {
                    return Err(Error::InvalidInput {
                        field: "key",
                        value: key,
                    })
                }
            }
            engine.save_settings(new)?;
            out.line("cli.saved", &[("key", &key)]);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Ctrl+C, caught from the moment this is made (where the OS allows it then), not from the
/// first wait: a Ctrl+C right after the address is printed cancels instead of killing `amo`.
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn listen() -> Interrupt {
        Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = self.signal.as_mut() {
            signal.recv().await;
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `amo config set autostart|notifications|proxy on|off`, `proxy_port N` and
/// `proxy_account HOST`; `None` for any other key.
fn set_switch(
    engine: &Engine,
    out: &Out,
    key: &str,
    value: Option<&str>,
) -> Result<Option<ExitCode>, Error> {
    match key {
        "autostart" | "notifications" => {}
        "proxy" => {
            let on = autostart::parse_switch("proxy", value.unwrap_or_default())?;
            engine.set_hosted_proxy(on)?;
            if on {
                let url = engine.hosted_proxy()?.url();
                out.line("cli.proxy_on", &[("url", &url)]);
            } else {
                out.line("cli.proxy_off", &[]);
            }
            return Ok(Some(ExitCode::SUCCESS));
        }
        "proxy_port" => {
            engine.set_hosted_proxy_port(value.unwrap_or_default())?;
            out.line("cli.saved", &[("key", key)]);
            return Ok(Some(ExitCode::SUCCESS));
        }
        "proxy_account" => {
            engine.set_hosted_proxy_account(value.unwrap_or_default())?;
            out.line("cli.saved", &[("key", key)]);
            return Ok(Some(ExitCode::SUCCESS));
        }
        _ => return Ok(None),
    }
    let field = if key == "autostart" {
        "autostart"
    } else {
        "notifications"
    };
    let on = autostart::parse_switch(field, value.unwrap_or_default())?;
    if key == "autostart" {
        let exe = std::env::current_exe().ok();
        let app = autostart::app_binary(exe.as_deref());
        let place = engine.set_autostart(on, &app)?;
        if on {
            out.line("cli.autostart_on", &[("path", &place)]);
        } else {
            out.line("cli.autostart_off", &[]);
        }
    } else {
        engine.set_notifications(on)?;
        out.line("cli.saved", &[("key", key)]);
    }
    Ok(Some(ExitCode::SUCCESS))
}

/// `value`, or for `-` one read from standard input.
fn value_or_stdin(out: &Out, value: String) -> Result<String, Error> {
    if value == "-" {
        read_stdin(out)
    } else {
        Ok(value)
    }
}

/// Reads a secret from standard input, prompting when it is a terminal.
fn read_stdin(out: &Out) -> Result<String, Error> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        out.prompt("cli.paste_secret");
    }
    let mut s = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| Error::InvalidInput {
            field: "stdin",
            value: e.to_string(),
        })?;
    Ok(s.trim().to_owned())
}
