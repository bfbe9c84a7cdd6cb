//! The tray icon: its look says the worst state (all connected, or something needs
//! attention); its menu is what `menu` works out (the accounts, *Open amo-connector*,
//! *Refresh all now*, *Quit*). On Linux the icon shows only with a menu. Redrawn only when
//! what it shows changed.

use amo_core::{ConnectionStatus, Lang};
use tray_icon::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::menu::{Row, Shown};

static ICON_OK: &[u8] = include_bytes!("../../../icons/tray.png");
static ICON_ATTENTION: &[u8] = include_bytes!("../../../icons/tray-attention.png");

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
        let shown = Shown::of(lang, &[]);
        let icon = TrayIconBuilder::new()
            .with_id(format!("amo-connector-{}", std::process::id()))
            .with_icon(icon(ICON_OK)?)
            .with_tooltip(lang.tr(tooltip(true, false), &[]))
            .with_menu(Box::new(menu(shown.rows())?))
            .with_menu_on_left_click(true)
            .build()
            .map_err(|e| format!("the tray icon could not be made: {e}"))?;
        Ok(Tray { icon, shown })
    }

    /// Redraws the icon and menu for `all`, as far as they changed.
    pub fn update(&mut self, lang: Lang, all: &[ConnectionStatus]) {
        let shown = Shown::of(lang, all);
        if shown == self.shown {
            return;
        }
        let attention = shown.attention();
        if attention != self.shown.attention() {
            let look = if attention { ICON_ATTENTION } else { ICON_OK };
            if let Ok(img) = icon(look) {
                let _ = self.icon.set_icon(Some(img));
            }
        }
        let tip = tooltip(shown.is_empty(), attention);
        let _ = self.icon.set_tooltip(Some(shown.lang().tr(tip, &[])));
        match menu(shown.rows()) {
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

/// The menu of `rows`.
fn menu(rows: Vec<Row>) -> Result<Menu, String> {
    let failed = |e: tray_icon::menu::Error| format!("the tray menu could not be made: {e}");
    let menu = Menu::new();
    for row in rows {
        menu.append(item(row).map_err(failed)?.as_ref())
            .map_err(failed)?;
    }
    Ok(menu)
}

/// The menu line of `row`; a submenu with its lines.
fn item(row: Row) -> Result<Box<dyn IsMenuItem>, tray_icon::menu::Error> {
    Ok(match row {
        Row::Item { id, text, enabled } => Box::new(MenuItem::with_id(id, text, enabled, None)),
        Row::Separator => Box::new(PredefinedMenuItem::separator()),
        Row::Submenu { text, rows } => {
            let submenu = Submenu::new(text, true);
            for row in rows {
                submenu.append(item(row)?.as_ref())?;
            }
            Box::new(submenu)
        }
    })
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
    use super::*;

    #[test]
    fn the_tooltip_says_the_worst_state_or_that_there_is_nothing() {
        assert_eq!(tooltip(false, false), "tray.tooltip_ok");
        assert_eq!(tooltip(true, false), "tray.tooltip_empty");
        assert_eq!(tooltip(false, true), "tray.tooltip_attention");
    }

    #[test]
    fn both_icons_are_8_bit_rgba_images() {
        assert!(icon(ICON_OK).is_ok());
        assert!(icon(ICON_ATTENTION).is_ok());
        assert!(icon(b"not a png").is_err());
    }
}
