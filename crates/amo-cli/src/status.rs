//! `amo status`: which connections it lists (`--state`, `--account`) and its exit status.

use std::process::ExitCode;

use amo_core::{ConnState, ConnectionStatus, Engine, Error};
use glob::{MatchOptions, Pattern};

use crate::output::{printable, Out};

/// Every state a connection can be in, in the order `--state` names them in its help.
const STATES: [ConnState; 4] = [
    ConnState::Connected,
    ConnState::ExpiresSoon,
    ConnState::Expired,
    ConnState::ReconnectNeeded,
];

/// Hosts are kept in lower case: a pattern typed in capitals must match them still.
const HOST_MATCH: MatchOptions = MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// What `amo status` was asked.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// A JSON list for scripts, the same in every language.
    #[arg(long)]
    pub json: bool,
    /// One line per account: host, name, state, expiry, last refresh.
    #[arg(long, conflicts_with = "json")]
    pub short: bool,
    /// List only connections in this state: connected, expires_soon, expired or
    /// reconnect_needed (repeat it, or separate states with commas).
    #[arg(long, value_name = "STATE", value_delimiter = ',')]
    pub state: Vec<String>,
    /// List only accounts whose host matches GLOB, such as '*.kommo.com': `*` and `?`, in
    /// any case.
    #[arg(long, value_name = "GLOB")]
    pub account: Option<String>,
}

/// How `amo status` prints what it lists.
enum Form {
    Table,
    Short,
    Json,
}

/// `amo status`: a filter that cannot be read is exit 2, as clap's own usage errors are,
/// told as any bad input is and with no log to point at (nothing was done).
///
/// # Errors
/// What [`show`] returns.
pub fn run(engine: &Engine, out: &Out, args: StatusArgs) -> Result<ExitCode, Error> {
    let filter = match Filter::parse(&args.state, args.account.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            out.fail(&e, None);
            return Ok(ExitCode::from(2));
        }
    };
    let form = if args.json {
        Form::Json
    } else if args.short {
        Form::Short
    } else {
        Form::Table
    };
    show(engine, out, &filter, form)
}

/// What `--state` and `--account` let through; nothing given lets every connection through.
#[derive(Debug)]
struct Filter {
    states: Vec<ConnState>,
    account: Option<Pattern>,
    /// The filters as they would be typed, for the line that says they matched nothing.
    typed: String,
}

impl Filter {
    /// The filter of `--state` values (already split at commas) and an `--account` glob.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a state that is not one of [`STATES`] (the message names
    /// them) or a pattern `glob` cannot read, such as an unclosed `[`.
    fn parse(states: &[String], account: Option<&str>) -> Result<Filter, Error> {
        let states = states
            .iter()
            .map(|given| {
                let name = given.trim();
                STATES
                    .into_iter()
                    .find(|s| s.as_str().eq_ignore_ascii_case(name))
                    .ok_or_else(|| Error::InvalidInput {
                        field: "conn_state",
                        value: name.chars().take(40).collect(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pattern = account
            .map(|glob| {
                Pattern::new(glob.trim()).map_err(|_| Error::InvalidInput {
                    field: "account_glob",
                    value: glob.chars().take(80).collect(),
                })
            })
            .transpose()?;
        let mut typed = Vec::new();
        if !states.is_empty() {
            let names: Vec<_> = states.iter().map(|s| s.as_str()).collect();
            typed.push(format!("--state {}", names.join(",")));
        }
        if let Some(glob) = account {
            typed.push(format!("--account {}", glob.trim()));
        }
        Ok(Filter {
            states,
            account: pattern,
            typed: typed.join(" "),
        })
    }

    fn is_empty(&self) -> bool {
        self.states.is_empty() && self.account.is_none()
    }

    fn lets_through(&self, c: &ConnectionStatus) -> bool {
        (self.states.is_empty() || self.states.contains(&c.state))
            && self
                .account
                .as_ref()
                .is_none_or(|p| p.matches_with(&c.account, HOST_MATCH))
    }
}

/// Lists the connections `filter` lets through in `form`: exit 0 when one of them is usable,
/// else 1. When there are connections but the filters let none through, one line on stderr
/// says so (with `--json`, after an empty list on stdout, which scripts can still read).
///
/// # Errors
/// What [`Engine::connections`] returns.
fn show(engine: &Engine, out: &Out, filter: &Filter, form: Form) -> Result<ExitCode, Error> {
    let all = engine.connections()?;
    let any = !all.is_empty();
    let listed: Vec<ConnectionStatus> =
        all.into_iter().filter(|c| filter.lets_through(c)).collect();
    if listed.is_empty() && any && !filter.is_empty() {
        if matches!(form, Form::Json) {
            out.status_json(&listed);
        }
        eprintln!(
            "{}",
            out.tr(
                "cli.status_no_match",
                &[("filters", &printable(&filter.typed))]
            )
        );
        return Ok(ExitCode::FAILURE);
    }
    match form {
        Form::Table => out.status_table(&listed),
        Form::Short => out.status_short(&listed),
        Form::Json => out.status_json(&listed),
    }
    Ok(if listed.iter().any(|c| c.usable) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use amo_core::Lang;

    fn filter(states: &[&str], account: Option<&str>) -> Result<Filter, Error> {
        let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
        Filter::parse(&states, account)
    }

    #[test]
    fn every_state_of_the_engine_can_be_asked_for() {
        // Stops compiling when the engine gains a state, which STATES must then list too.
        let place = |s: ConnState| match s {
            ConnState::Connected => 0,
            ConnState::ExpiresSoon => 1,
            ConnState::Expired => 2,
            ConnState::ReconnectNeeded => 3,
        };
        for (i, s) in STATES.into_iter().enumerate() {
            assert_eq!(place(s), i, "{s:?}");
            let f = filter(&[s.as_str()], None).unwrap();
            assert_eq!(f.states, [s]);
        }
        assert_eq!(
            filter(&[" Expired "], None).unwrap().states,
            [ConnState::Expired]
        );
    }

    #[test]
    fn an_unknown_state_is_refused_with_every_allowed_name_in_every_language() {
        let e = filter(&["connected", "sleeping"], None).unwrap_err();
        assert!(matches!(&e, Error::InvalidInput { value, .. } if value == "sleeping"));
        for lang in Lang::all() {
            let message = e.message(lang);
            for s in STATES {
                assert!(message.contains(s.as_str()), "{}: {message}", lang.code());
            }
        }
    }

    #[test]
    fn the_account_glob_matches_the_host_in_any_case() {
        let f = filter(&[], Some("*.AmoCRM.ru")).unwrap();
        let p = f.account.as_ref().unwrap();
        assert!(p.matches_with("acme.amocrm.ru", HOST_MATCH));
        assert!(!p.matches_with("acme.kommo.com", HOST_MATCH));
        let one = Pattern::new("acme?.kommo.com").unwrap();
        assert!(one.matches_with("acme2.kommo.com", HOST_MATCH));
        assert!(!one.matches_with("acme.kommo.com", HOST_MATCH));
        assert!(matches!(
            filter(&[], Some("[acme")),
            Err(Error::InvalidInput {
                field: "account_glob",
                ..
            })
        ));
    }

    #[test]
    fn the_filters_are_told_as_they_would_be_typed() {
        let f = filter(&["expired", "reconnect_needed"], Some("*.kommo.com")).unwrap();
        assert_eq!(
            f.typed,
            "--state expired,reconnect_needed --account *.kommo.com"
        );
        assert!(filter(&[], None).unwrap().is_empty());
    }
}
