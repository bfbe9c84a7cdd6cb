//! What the tray's menu lists, worked out apart from the icon so the tests need no display:
//! each account with its state; past [`FLAT_MAX`] accounts, those that need attention on top
//! and every account in *All accounts*; then *Open amo-connector*, *Refresh all now* and
//! *Quit*.

use amo_core::when::plural;
use amo_core::{ConnState, ConnectionStatus, Lang};

/// Menu ids.
pub const OPEN: &str = "open";
pub const REFRESH_ALL: &str = "refresh_all";
pub const QUIT: &str = "quit";
/// `account:HOST`: opens the window at that account.
pub const ACCOUNT: &str = "account:";
/// *N more need attention*: more of them than the top shows; opens the window.
pub const MORE_ATTENTION: &str = "more_attention";
/// *Open amo-connector to see all N*: more accounts than *All accounts* lists; opens the
/// window.
pub const MORE_ACCOUNTS: &str = "more_accounts";
/// The line that says there are no connections; it does nothing.
const NONE: &str = "none";

/// With at most this many accounts each is a line of the menu itself, as with one; with
/// more, only those that need attention are, and every account is in *All accounts*.
pub const FLAT_MAX: usize = 5;
/// At most this many accounts that need attention on top (when the keychain is away, all of
/// them do); a line counts the rest.
pub const ATTENTION_MAX: usize = 5;
/// At most this many accounts in *All accounts*; a last line opens the window, which lists
/// them all. A menu line costs the tray process memory for as long as it is shown (the
/// menu's widgets and its copy on the session bus), and a list longer than a screen is
/// scrolled through, not read.
pub const ALL_MAX: usize = 100;

/// Whether the connection `c` needs the user: reconnect, or no usable token.
fn needs_attention(c: &ConnectionStatus) -> bool {
    c.state == ConnState::ReconnectNeeded || c.expired || !c.usable
}

/// One account as the menu shows it.
#[derive(Debug, PartialEq)]
pub struct Account {
    host: String,
    state: ConnState,
    attention: bool,
}

/// What the tray shows: the language and the accounts in their order. The icon, its tooltip
/// and the menu follow from it alone, so a redraw happens only when it changes.
#[derive(Debug, PartialEq)]
pub struct Shown {
    lang: Lang,
    accounts: Vec<Account>,
}

/// One line of the menu.
#[derive(Debug, PartialEq)]
pub enum Row {
    Item {
        id: String,
        text: String,
        enabled: bool,
    },
    /// A line that opens a menu of its own.
    Submenu {
        text: String,
        rows: Vec<Row>,
    },
    Separator,
}

impl Row {
    fn item(id: impl Into<String>, text: String, enabled: bool) -> Row {
        Row::Item {
            id: id.into(),
            text,
            enabled,
        }
    }
}

impl Shown {
    /// What `all` shows in `lang`: the accounts by host.
    pub fn of(lang: Lang, all: &[ConnectionStatus]) -> Shown {
        let mut accounts: Vec<Account> = all
            .iter()
            .map(|c| Account {
                host: c.account.clone(),
                state: c.state,
                attention: needs_attention(c),
            })
            .collect();
        accounts.sort_by(|a, b| a.host.cmp(&b.host));
        Shown { lang, accounts }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The worst state: true when one of the accounts needs the user.
    pub fn attention(&self) -> bool {
        self.accounts.iter().any(|a| a.attention)
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The menu's lines: each account with its state (or that there is none) while there
    /// are at most [`FLAT_MAX`]; past that, those that need attention (at most
    /// [`ATTENTION_MAX`], then how many more) and *All accounts (N)* with every account (at
    /// most [`ALL_MAX`], then a line to see them all in the window). Then *Open*, *Refresh
    /// all now* (with something to refresh) and *Quit*.
    pub fn rows(&self) -> Vec<Row> {
        let lang = self.lang;
        let n = self.accounts.len();
        let mut rows = Vec::new();
        if n == 0 {
            rows.push(Row::item(NONE, lang.tr("tray.none", &[]), false));
        } else if n <= FLAT_MAX {
            rows.extend(self.accounts.iter().map(|a| self.account(a)));
        } else {
            let attention: Vec<&Account> = self.accounts.iter().filter(|a| a.attention).collect();
            rows.extend(
                attention
                    .iter()
                    .take(ATTENTION_MAX)
                    .map(|a| self.account(a)),
            );
            if let Some(more) = attention
                .len()
                .checked_sub(ATTENTION_MAX)
                .filter(|&m| m > 0)
            {
                let text = plural(lang, "tray.more_attention", more as u64, &[]);
                rows.push(Row::item(MORE_ATTENTION, text, true));
            }
            let mut all: Vec<Row> = self
                .accounts
                .iter()
                .take(ALL_MAX)
                .map(|a| self.account(a))
                .collect();
            let count = n.to_string();
            if n > ALL_MAX {
                all.push(Row::Separator);
                let text = lang.tr("tray.more_accounts", &[("n", &count)]);
                all.push(Row::item(MORE_ACCOUNTS, text, true));
            }
            rows.push(Row::Submenu {
                text: lang.tr("tray.all_accounts", &[("n", &count)]),
                rows: all,
            });
        }
        rows.push(Row::Separator);
        rows.push(Row::item(OPEN, lang.tr("tray.open", &[]), true));
        rows.push(Row::item(
            REFRESH_ALL,
            lang.tr("tray.refresh_all", &[]),
            n > 0,
        ));
        rows.push(Row::item(QUIT, lang.tr("tray.quit", &[]), true));
        rows
    }

    /// `HOST: state`, which opens the window at that account.
    fn account(&self, a: &Account) -> Row {
        let state = self.lang.tr(&format!("state.{}", a.state.as_str()), &[]);
        let text = self
            .lang
            .tr("tray.account", &[("account", &a.host), ("state", &state)]);
        Row::item(format!("{ACCOUNT}{}", a.host), text, true)
    }
}

#[cfg(test)]
mod tests;
