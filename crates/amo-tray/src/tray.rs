//! The tray icon: its look says the worst state (all connected, or something needs
//! attention); its menu lists each account with its state, then *Open amo-connector*,
//! *Refresh all now* and *Quit*. On Linux the icon shows only with a menu. Redrawn only
//! when what it shows changed.

use amo_core::{ConnState, ConnectionStatus, Lang};
use tray_icon::menu::{Menu, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

/// Menu ids.
pub const OPEN: &str = "open";
pub const REFRESH_ALL: &str = "refresh_all";
pub const QUIT: &str = "quit";
/// `account:HOST`: opens the window at that account.
pub const ACCOUNT: &str = "account:";

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
            .with_tooltip(lang.tr("tray.tooltip_empty", &[]))
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
        let tip = match (all.is_empty(), shown.attention) {
            (_, true) => "tray.tooltip_attention",
            (true, false) => "tray.tooltip_empty",
            (false, false) => "tray.tooltip_ok",
        };
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

fn menu(lang: Lang, all: &[ConnectionStatus]) -> Result<Menu, String> {
    let failed = |e: tray_icon::menu::Error| format!("the tray menu could not be made: {e}");
    let menu = Menu::new();
    if all.is_empty() {
        let none = MenuItem::with_id("none", lang.tr("tray.none", &[]), false, None);
        menu.append(&none).map_err(failed)?;
    }
    for c in all {
        let state = lang.tr(&format!("state.{}", c.state.as_str()), &[]);
        let text = lang.tr(
            "tray.account",
            &[("account", &c.account), ("state", &state)],
        );
        let item = MenuItem::with_id(format!("{ACCOUNT}{}", c.account), text, true, None);
        menu.append(&item).map_err(failed)?;
    }
    menu.append(&PredefinedMenuItem::separator())
        .map_err(failed)?;
    let open = MenuItem::with_id(OPEN, lang.tr("tray.open", &[]), true, None);
    let refresh = MenuItem::with_id(
        REFRESH_ALL,
        lang.tr("tray.refresh_all", &[]),
        !all.is_empty(),
        None,
    );
    let quit = MenuItem::with_id(QUIT, lang.tr("tray.quit", &[]), true, None);
    for item in [&open, &refresh, &quit] {
        menu.append(item).map_err(failed)?;
    }
    Ok(menu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_icons_are_8_bit_rgba_images() {
        assert!(icon(ICON_OK).is_ok());
        assert!(icon(ICON_ATTENTION).is_ok());
        assert!(icon(b"not a png").is_err());
    }
}
