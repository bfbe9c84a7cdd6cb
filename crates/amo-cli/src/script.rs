//! `amo token`, `amo api` and `amo run`: the connection at work for scripts and local tools.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use amo_core::{rfc3339, AccountHost, ApiAnswer, ApiRequest, Engine, Error};

use crate::output::Out;

mod relay;

pub(crate) use relay::Relay;

/// What `amo` reads from its environment that is a secret, kept from `amo run`'s child: it
/// gets the access token alone.
const SECRET_ENV: &[&str] = &["AMO_CLIENT_SECRET"];

/// The most pages `--paginate` follows (250 items each: far past any real account).
const MAX_PAGES: usize = 100_000;

/// Reads `90s`, `30m`, `2h`, `1d` (or plain seconds).
pub fn parse_duration(s: &str) -> Result<chrono::Duration, Error> {
    let invalid = || Error::InvalidInput {
        field: "min_valid",
        value: s.chars().take(40).collect(),
    };
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: i64 = num.parse().map_err(|_| invalid())?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60).ok_or_else(invalid)?,
        "h" => n.checked_mul(3_600).ok_or_else(invalid)?,
        "d" => n.checked_mul(86_400).ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    if secs > 10 * 365 * 86_400 {
        return Err(invalid());
    }
    Ok(chrono::Duration::seconds(secs))
}

/// `amo token`: the token alone on stdout (its one purpose), or `--json`.
pub async fn token(
    engine: &Engine,
    account: &AccountHost,
    min_valid: &str,
    json: bool,
) -> Result<ExitCode, Error> {
    let issued = engine
        .token_for(account, parse_duration(min_valid)?)
        .await?;
    let mut stdout = std::io::stdout().lock();
    let text = if json {
        serde_json::json!({
            "account": issued.account.as_str(),
            "access_token": issued.access_token.expose(),
            "expires_at": issued.expires_at.map(rfc3339),
            "api_base": issued.api_base,
        })
        .to_string()
    } else {
        issued.access_token.expose().to_owned()
    };
    let _ = writeln!(stdout, "{text}");
    Ok(ExitCode::SUCCESS)
}

/// `amo run`: CMD with the token in its environment, never on a command line, and without
/// the client secret; the signals that end a program passed on to it; its exit status
/// passed through (128+N when it died of signal N).
pub async fn run(
    engine: &Engine,
    out: &Out,
    account: &AccountHost,
    min_valid: &str,
    command: &[String],
) -> Result<ExitCode, Error> {
    let issued = engine
        .token_for(account, parse_duration(min_valid)?)
        .await?;
    let Some((program, args)) = command.split_first() else {
        return Err(Error::InvalidInput {
            field: "command",
            value: String::new(),
        });
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for var in SECRET_ENV {
        cmd.env_remove(var);
    }
    cmd.env("AMO_ACCESS_TOKEN", issued.access_token.expose())
        .env("AMO_ACCOUNT_HOST", issued.account.as_str())
        .env("AMO_API_BASE", &issued.api_base);
    let Some((relay, mut child)) = start_relayed(&mut cmd, program, out) else {
        return Ok(ExitCode::from(127));
    };
    match relay.wait(&mut child).await {
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

/// Starts `cmd` for `amo run` with the signal relay listening first (no signal may end `amo`
/// while it runs); `None` once a failure to start is told (exit 127).
pub(crate) fn start_relayed(
    cmd: &mut tokio::process::Command,
    program: &str,
    out: &Out,
) -> Option<(Relay, tokio::process::Child)> {
    Relay::prepare(cmd);
    match Relay::listen().and_then(|relay| Ok((relay, cmd.spawn()?))) {
        Ok(started) => Some(started),
        Err(e) => {
            let reason = e.to_string();
            eprintln!(
                "amo: {}",
                out.tr(
                    "cli.run_failed",
                    &[("command", program), ("reason", &reason)]
                )
            );
            None
        }
    }
}

/// The exit status `amo run` passes through: the command's, 128+N when signal N ended it.
#[cfg(unix)]
pub(crate) fn exit_byte(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from((128 + sig) & 0xff).unwrap_or(1),
        _ => 1,
    }
}

#[cfg(not(unix))]
pub(crate) fn exit_byte(status: std::process::ExitStatus) -> u8 {
    status
        .code()
        .map_or(1, |c| u8::try_from(c & 0xff).unwrap_or(1))
}

/// What `amo api` was asked.
#[derive(clap::Args)]
pub struct ApiArgs {
    /// A path on the account, such as api/v4/leads or /api/v4/leads?limit=250, or the
    /// account's own address; the token is sent nowhere else.
    pub path: String,
    /// The HTTP method (default GET, or POST with -f or --input).
    #[arg(short = 'X', long = "method", value_name = "METHOD")]
    pub method: Option<String>,
    /// key=value: a query parameter for GET, else a field of the JSON body.
    #[arg(short = 'f', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// The request body from a file (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub input: Option<String>,
    /// Follow _links.next.href and print one document holding every page's items.
    #[arg(long)]
    pub paginate: bool,
    /// Print the status line and headers before the body.
    #[arg(short = 'i', long)]
    pub include: bool,
}

/// `amo api`: the answer as the server sent it (JSON pretty-printed on a terminal).
pub async fn api(engine: &Engine, account: &AccountHost, args: ApiArgs) -> Result<ExitCode, Error> {
    let mut pairs = Vec::new();
    for f in &args.fields {
        let (k, v) = f.split_once('=').ok_or_else(|| Error::InvalidInput {
            field: "field",
            value: f.chars().take(80).collect(),
        })?;
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let body = match args.input.as_deref() {
        Some("-") => Some(read_all(std::io::stdin())?),
        Some(path) => Some(std::fs::read(path).map_err(|e| Error::InvalidInput {
            field: "input",
            value: format!("{path}: {e}"),
        })?),
        None => None,
    };
    let method = args
        .method
        .clone()
        .unwrap_or_else(|| {
            if pairs.is_empty() && body.is_none() {
                "GET".into()
            } else {
                "POST".into()
            }
        })
        .to_ascii_uppercase();
    let mut request = ApiRequest {
        method: method.clone(),
        path: args.path.clone(),
        query: Vec::new(),
        body,
    };
    if method == "GET" {
        request.query = pairs;
    } else if !pairs.is_empty() && request.body.is_none() {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        request.body = Some(serde_json::Value::Object(map).to_string().into_bytes());
    }
    let pretty = std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut session = engine.api_session(account).await?;
    let mut merged: Option<serde_json::Value> = None;
    for _ in 0..MAX_PAGES {
        let answer = session.call(&request).await?;
        if args.include {
            let _ = write_head(&mut stdout, &answer);
        }
        if let Some(e) = answer.error() {
            return Err(e);
        }
        if !args.paginate {
            let _ = write_body(&mut stdout, &answer, pretty);
            return Ok(ExitCode::SUCCESS);
        }
        if answer.status == 204 || answer.body.is_empty() {
            break;
        }
        let page = answer.json()?;
        let next = page
            .pointer("/_links/next/href")
            .and_then(|h| h.as_str())
            .map(str::to_owned);
        merge(&mut merged, page);
        match next {
            Some(href) => {
                request = ApiRequest {
                    method: "GET".into(),
                    path: href,
                    query: Vec::new(),
                    body: None,
                };
            }
            None => break,
        }
    }
    if let Some(doc) = merged {
        let text = if pretty {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        };
        let _ = writeln!(stdout, "{}", text.unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds a page to the document: the first page is the document (without `_links.next`);
/// each later one's `_embedded` arrays are appended to the document's.
pub fn merge(doc: &mut Option<serde_json::Value>, mut page: serde_json::Value) {
    if let Some(links) = page.get_mut("_links").and_then(|l| l.as_object_mut()) {
        links.remove("next");
    }
    let Some(doc) = doc.as_mut() else {
        *doc = Some(page);
        return;
    };
    let Some(embedded) = page.get_mut("_embedded").and_then(|e| e.as_object_mut()) else {
        return;
    };
    for (key, items) in embedded.iter_mut() {
        let Some(items) = items.as_array_mut() else {
            continue;
        };
        let slot = &mut doc["_embedded"][key.as_str()];
        match slot.as_array_mut() {
            Some(have) => have.append(items),
            None => *slot = serde_json::Value::Array(std::mem::take(items)),
        }
    }
}

fn write_head(w: &mut impl Write, answer: &ApiAnswer) -> std::io::Result<()> {
    writeln!(w, "HTTP/1.1 {} {}", answer.status, answer.reason)?;
    for (k, v) in &answer.headers {
        writeln!(w, "{k}: {v}")?;
    }
    writeln!(w)
}

fn write_body(w: &mut impl Write, answer: &ApiAnswer, pretty: bool) -> std::io::Result<()> {
    if pretty && answer.content_type().contains("json") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer.body) {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            return writeln!(w, "{text}");
        }
    }
    w.write_all(&answer.body)
}

fn read_all(mut r: impl Read) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).map_err(|e| Error::InvalidInput {
        field: "stdin",
        value: e.to_string(),
    })?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_seconds_minutes_hours_and_days() {
        assert_eq!(parse_duration("90s").unwrap().num_seconds(), 90);
        assert_eq!(parse_duration("30m").unwrap().num_seconds(), 1_800);
        assert_eq!(parse_duration("2h").unwrap().num_seconds(), 7_200);
        assert_eq!(parse_duration("45").unwrap().num_seconds(), 45);
        for bad in ["", "m", "5w", "-5m", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_merge_their_embedded_arrays_into_the_first() {
        let mut doc = None;
        merge(
            &mut doc,
            serde_json::json!({"_links":{"next":{"href":"x"}},"_embedded":{"leads":[1,2]}}),
        );
        merge(&mut doc, serde_json::json!({"_embedded":{"leads":[3]}}));
        let doc = doc.unwrap();
        assert_eq!(doc["_embedded"]["leads"], serde_json::json!([1, 2, 3]));
        assert!(doc["_links"].get("next").is_none());
    }
}
