//! `amo proxy` and `amo run --proxy`: the engine's local API proxy in the foreground, or for
//! the lifetime of one command, which then holds a proxy key and never the amoCRM token.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use amo_core::{AccountHost, Engine, Error, Listen, ProxyOptions};

use crate::output::Out;
use crate::script::{exit_byte, start_relayed};

mod stop;

/// What `amo proxy` was asked.
#[derive(clap::Args)]
pub struct ProxyArgs {
    /// Where to listen: 127.0.0.1:PORT, [::1]:PORT or a port alone (default: a free port on
    /// 127.0.0.1), or unix:PATH for a socket file only you can open (mode 0600; not on
    /// Windows), called as http://localhost through it (curl --unix-socket PATH
    /// http://localhost/api/v4/account). An address other computers can reach is warned
    /// about.
    #[arg(long, value_name = "ADDR:PORT|unix:PATH")]
    pub listen: Option<String>,
    /// Forward GET and HEAD only; any other method is refused with 405.
    #[arg(long)]
    pub read_only: bool,
    /// Print {"url","key"} as the first line once it listens; with unix:PATH also
    /// "socket", the file to connect to (url is then http://localhost).
    #[arg(long)]
    pub json: bool,
}

/// `amo proxy`: serves until Ctrl+C (or SIGTERM), then exits 0.
pub async fn serve(
    engine: &Engine,
    out: &Out,
    account: &AccountHost,
    args: ProxyArgs,
) -> Result<ExitCode, Error> {
    let listen = parse_listen(args.listen.as_deref())?;
    // Caught before the address is printed: a Ctrl+C from then on stops the proxy cleanly.
    let mut stop = stop::Stop::listen();
    let options = ProxyOptions {
        listen,
        read_only: args.read_only,
        key: None,
    };
    let proxy = match engine.start_proxy(account, options).await {
        Ok(proxy) => proxy,
        Err(Error::Listen { addr, reason }) => {
            eprintln!(
                "amo: {}",
                out.tr(
                    "cli.proxy_listen_failed",
                    &[("addr", &addr), ("reason", &reason)]
                )
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e),
    };
    let socket = match proxy.listening() {
        Listen::Tcp(addr) => {
            if !addr.ip().is_loopback() {
                eprintln!(
                    "amo: {}",
                    out.tr("cli.proxy_not_loopback", &[("addr", &addr.to_string())])
                );
            }
            None
        }
        Listen::Unix(path) => Some(path.display().to_string()),
    };
    let url = proxy.url();
    let text = if args.json {
        // `url` first, as the line is documented; `socket` only for a socket file.
        let socket = socket.map_or_else(String::new, |path| {
            format!(",\"socket\":{}", serde_json::Value::from(path))
        });
        format!(
            "{{\"url\":{},\"key\":{}{socket}}}",
            serde_json::Value::from(url.as_str()),
            serde_json::Value::from(proxy.key().expose())
        )
    } else {
        let account = proxy.account();
        let api = proxy.api_base();
        let mut at = vec![("account", account.as_str()), ("url", api.as_str())];
        let place = match &socket {
            Some(path) => {
                at.push(("socket", path.as_str()));
                out.tr("cli.proxy_socket", &at)
            }
            None => out.tr("cli.proxy_url", &at),
        };
        format!(
            "{place}\n{}",
            out.tr("cli.proxy_key", &[("key", proxy.key().expose())])
        )
    };
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }
    if !args.json {
        if args.read_only {
            out.note("cli.proxy_read_only");
        }
        out.note("cli.proxy_running");
    }
    proxy.serve(stop.recv()).await?;
    out.note("cli.proxy_stopped");
    Ok(ExitCode::SUCCESS)
}

/// `amo run --proxy`: CMD with a proxy on a free loopback port for its lifetime;
/// `AMO_API_BASE` points at the proxy and `AMO_ACCESS_TOKEN` is the proxy's key, so the
/// command never sees the account's token. Otherwise as `amo run`: the client secret kept
/// out, the signals that end a program passed on, its exit status passed through.
pub async fn run(
    engine: &Engine,
    out: &Out,
    account: &AccountHost,
    command: &[String],
) -> Result<ExitCode, Error> {
    let Some((program, args)) = command.split_first() else {
        return Err(Error::InvalidInput {
            field: "command",
            value: String::new(),
        });
    };
    let proxy = engine.start_proxy(account, ProxyOptions::default()).await?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_remove("AMO_CLIENT_SECRET")
        .env("AMO_ACCESS_TOKEN", proxy.key().expose())
        .env("AMO_ACCOUNT_HOST", proxy.account().as_str())
        .env("AMO_API_BASE", proxy.api_base());
    let Some((relay, mut child)) = start_relayed(&mut cmd, program, out) else {
        return Ok(ExitCode::from(127));
    };
    let (ended, end) = tokio::sync::oneshot::channel::<()>();
    let serving = proxy.serve(async {
        let _ = end.await;
    });
    let waiting = async {
        let status = relay.wait(&mut child).await;
        let _ = ended.send(());
        status
    };
    let (served, status) = tokio::join!(serving, waiting);
    served?;
    match status {
        Ok(status) => Ok(ExitCode::from(exit_byte(status))),
        Err(e) => {
            let reason = e.to_string();
            eprintln!(
                "amo: {}",
                out.tr("cli.run_lost", &[("command", program), ("reason", &reason)])
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// `--listen`: an address with a port, `localhost:PORT`, a port alone (on 127.0.0.1), or
/// `unix:PATH` (made absolute, so that the path printed works from any folder).
fn parse_listen(value: Option<&str>) -> Result<Listen, Error> {
    let Some(value) = value.map(str::trim) else {
        return Ok(ProxyOptions::default().listen);
    };
    let invalid = || Error::InvalidInput {
        field: "listen",
        value: value.chars().take(80).collect(),
    };
    if let Some(path) = value.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(invalid());
        }
        let path = std::path::absolute(path).map_err(|_| invalid())?;
        return Ok(Listen::Unix(path));
    }
    if let Some(port) = value
        .strip_prefix("localhost:")
        .or(Some(value).filter(|v| v.bytes().all(|b| b.is_ascii_digit())))
    {
        let port: u16 = port.parse().map_err(|_| invalid())?;
        return Ok(Listen::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port))));
    }
    value.parse().map(Listen::Tcp).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_an_address_localhost_or_a_port() {
        let p = |s| parse_listen(Some(s)).map(|a| a.to_string());
        assert_eq!(parse_listen(None).unwrap().to_string(), "127.0.0.1:0");
        assert_eq!(p("8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(p("localhost:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(p("[::1]:9").unwrap(), "[::1]:9");
        assert_eq!(p("0.0.0.0:9").unwrap(), "0.0.0.0:9");
        for bad in ["", "host:1", "127.0.0.1", "99999", "localhost:x", "unix:"] {
            assert!(parse_listen(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn listen_takes_a_socket_path_made_absolute() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            parse_listen(Some("unix:amo.sock")).unwrap(),
            Listen::Unix(cwd.join("amo.sock"))
        );
        let abs = cwd.join("x").join("amo.sock");
        let given = format!("unix:{}", abs.display());
        assert_eq!(parse_listen(Some(&given)).unwrap(), Listen::Unix(abs));
    }
}
