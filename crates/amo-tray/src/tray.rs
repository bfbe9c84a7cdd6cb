//! The tray icon: its look says the worst state (all connected, or something needs
//! attention); its menu lists each account with its state, then *Open amo-connector*,
//! *Refresh all now* and *Quit*. On Linux the icon shows only with a menu. Redrawn only
//! when what it shows changed. What it shows is worked out apart from the icon, so the tests
//! need no display.

use amo_core::{ConnState, ConnectionStatus, Lang};
use tray_icon::menu::{Menu, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

/// Menu ids.
pub const OPEN: &str = "open";
pub const REFRESH_ALL: &str = "refresh_all";
pub const QUIT: &str = "quit";
/// `account:HOST`: opens the window at that account.
pub const ACCOUNT: &str = "account:";
/// The line that says there are no connections; it does nothing.
const NONE: &str = "none";

static ICON_OK: &[u8] = include_bytes!("../../../icons/tray.png");
static ICON_ATTENTION: &[u8] = include_bytes!("../../../icons/tray-attention.png");

/// The worst state of `all`: true when one needs the user.
pub fn needs_attention(all: &[ConnectionStatus]) -> bool {
    all.iter()
        .any(|c| c.state == ConnState::ReconnectNeeded || c.expired || !c.usable)
}

/// What the tray shows; a redraw happens only when it changes.
#[derive(PartialEq)]
struct Shown {
    lang: Lang,
    attention: bool,
    rows: Vec<(String, ConnState)>,
}

/// The icon in the tray and what it shows.
pub struct Tray {
    icon: TrayIcon,
    shown: Shown,
}

impl Tray {
    /// Puts the icon in the tray, with no connections listed yet.
    ///
    /// # Errors
    /// The icon or its menu could not be made; the message says which.
    pub fn create(lang: Lang) -> Result<Tray, String> {
        let icon = TrayIconBuilder::new()
            .with_id(format!("amo-connector-{}", std::process::id()))
            .with_icon(icon(ICON_OK)?)
            .with_tooltip(lang.tr(tooltip(true, false), &[]))
            .with_menu(Box::new(menu(lang, &[])?))
            .with_menu_on_left_click(true)
            .build()
            .map_err(|e| format!("the tray icon could not be made: {e}"))?;
        Ok(Tray {
            icon,
            shown: Shown {
                lang,
                attention: false,
                rows: Vec::new(),
            },
        })
    }

    /// Redraws the icon and menu for `all`, as far as they changed.
    pub fn update(&mut self, lang: Lang, all: &[ConnectionStatus]) {
        let shown = Shown {
            lang,
            attention: needs_attention(all),
            rows: all.iter().map(|c| (c.account.clone(), c.state)).collect(),
        };
        if shown == self.shown {
            return;
        }
        if shown.attention != self.shown.attention {
            let look = if shown.attention {
                ICON_ATTENTION
            } else {
                ICON_OK
            };
            if let Ok(img) = icon(look) {
                let _ = self.icon.set_icon(Some(img));
            }
        }
        let tip = tooltip(all.is_empty(), shown.attention);
        let _ = self.icon.set_tooltip(Some(lang.tr(tip, &[])));
        match menu(lang, all) {
            Ok(m) => self.icon.set_menu(Some(Box::new(m))),
            Err(e) => eprintln!("amo-connector-tray: {e}"),
        }
        self.shown = shown;
    }
}

/// A PNG of ours as the icon's pixels.
fn icon(png_bytes: &[u8]) -> Result<Icon, String> {
    let bad = |e: &dyn std::fmt::Display| format!("a tray icon image is damaged: {e}");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().map_err(|e| bad(&e))?;
    if reader.output_color_type() != (png::ColorType::Rgba, png::BitDepth::Eight) {
        return Err(bad(&"not 8-bit RGBA"));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| bad(&"too large"))?;
    let mut rgba = vec![0; size];
    let frame = reader.next_frame(&mut rgba).map_err(|e| bad(&e))?;
    rgba.truncate(frame.buffer_size());
    Icon::from_rgba(rgba, frame.width, frame.height).map_err(|e| bad(&e))
}

/// One line of the menu.
#[derive(Debug, PartialEq)]
enum Row {
    Item {
        id: String,
        text: String,
        enabled: bool,
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

/// What the menu lists for `all`: each account with its state (or that there is none), then
/// *Open*, *Refresh all now* (with something to refresh) and *Quit*.
fn rows(lang: Lang, all: &[ConnectionStatus]) -> Vec<Row> {
    let mut rows = Vec::new();
    if all.is_empty() {
        rows.push(Row::item(NONE, lang.tr("tray.none", &[]), false));
    }
    for c in all {
        let state = lang.tr(&format!("state.{}", c.state.as_str()), &[]);
        let text = lang.tr(
            "tray.account",
            &[("account", &c.account), ("state", &state)],
        );
        rows.push(Row::item(format!("{ACCOUNT}{}", c.account), text, true));
    }
    rows.push(Row::Separator);
    rows.push(Row::item(OPEN, lang.tr("tray.open", &[]), true));
    rows.push(Row::item(
        REFRESH_ALL,
        lang.tr("tray.refresh_all", &[]),
        !all.is_empty(),
    ));
    rows.push(Row::item(QUIT, lang.tr("tray.quit", &[]), true));
    rows
}

fn menu(lang: Lang, all: &[ConnectionStatus]) -> Result<Menu, String> {
    let failed = |e: tray_icon::menu::Error| format!("the tray menu could not be made: {e}");
    let menu = Menu::new();
    for row in rows(lang, all) {
        match row {
            Row::Item { id, text, enabled } => {
                menu.append(&MenuItem::with_id(id, text, enabled, None))
            }
            Row::Separator => menu.append(&PredefinedMenuItem::separator()),
        }
        .map_err(failed)?;
    }
    Ok(menu)
}

/// The tooltip's catalogue key: the worst state, or that there is nothing to show.
fn tooltip(empty: bool, attention: bool) -> &'static str {
    match (empty, attention) {
        (_, true) => "tray.tooltip_attention",
        (true, false) => "tray.tooltip_empty",
        (false, false) => "tray.tooltip_ok",
    }
}

#[cfg(test)]
mod tests {
    use amo_core::TokenKind;

    use super::*;

    fn connection(account: &str, state: ConnState) -> ConnectionStatus {
        ConnectionStatus {
            account: account.into(),
            name: None,
            account_id: None,
            kind: TokenKind::Oauth,
            client_id: None,
            access_token_masked: None,
            expires_at: None,
            expired: state == ConnState::Expired,
            created_at: Default::default(),
            updated_at: Default::default(),
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: None,
            state,
            usable: state != ConnState::ReconnectNeeded,
            storage: "storage.secret_service",
            api_base: None,
            moved_from: None,
        }
    }

    fn lang() -> Lang {
        Lang::from_code("en").unwrap()
    }

    /// `(id, text, enabled)` of each item, `("-", "", false)` for a separator.
    fn lines(all: &[ConnectionStatus]) -> Vec<(String, String, bool)> {
        rows(lang(), all)
            .into_iter()
            .map(|r| match r {
                Row::Item { id, text, enabled } => (id, text, enabled),
                Row::Separator => ("-".into(), String::new(), false),
            })
            .collect()
    }

    fn line(id: &str, text: &str, enabled: bool) -> (String, String, bool) {
        (id.into(), text.into(), enabled)
    }

    #[test]
    fn with_no_account_the_menu_says_so_and_has_nothing_to_refresh() {
        assert_eq!(
            lines(&[]),
            [
                line(NONE, "No connections", false),
                line("-", "", false),
                line(OPEN, "Open amo-connector", true),
                line(REFRESH_ALL, "Refresh all now", false),
                line(QUIT, "Quit", true),
            ]
        );
    }

    #[test]
    fn each_account_is_a_line_that_opens_it_with_its_state() {
        let all = [
            connection("one.amocrm.ru", ConnState::Connected),
            connection("two.kommo.com", ConnState::ReconnectNeeded),
        ];
        assert_eq!(
            lines(&all),
            [
                line("account:one.amocrm.ru", "one.amocrm.ru: Connected", true),
                line(
                    "account:two.kommo.com",
                    "two.kommo.com: Reconnect needed",
                    true
                ),
                line("-", "", false),
                line(OPEN, "Open amo-connector", true),
                line(REFRESH_ALL, "Refresh all now", true),
                line(QUIT, "Quit", true),
            ]
        );
    }

    #[test]
    fn the_worst_state_sets_the_look() {
        let fine = connection("one.amocrm.ru", ConnState::Connected);
        let soon = connection("two.amocrm.ru", ConnState::ExpiresSoon);
        assert!(!needs_attention(&[fine.clone(), soon.clone()]));
        assert_eq!(tooltip(false, false), "tray.tooltip_ok");
        assert_eq!(tooltip(true, false), "tray.tooltip_empty");
        for state in [ConnState::Expired, ConnState::ReconnectNeeded] {
            let bad = connection("three.amocrm.ru", state);
            assert!(needs_attention(&[fine.clone(), bad]), "{state:?}");
        }
        let mut unusable = fine.clone();
        unusable.usable = false;
        assert!(needs_attention(&[unusable]));
        assert_eq!(tooltip(false, true), "tray.tooltip_attention");
    }

    #[test]
    fn both_icons_are_8_bit_rgba_images() {
        assert!(icon(ICON_OK).is_ok());
        assert!(icon(ICON_ATTENTION).is_ok());
        assert!(icon(b"not a png").is_err());
    }
}
