//! The tray icon: its look says the worst state (all connected, or something needs
//! attention); its menu lists each account with its state, then *Open amo-connector*,
//! *Refresh all now* and *Quit*. On Linux the icon shows only with a menu.

use amo_core::{ConnState, ConnectionStatus, Lang};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;
use crate::window;

const ID: &str = "main";
const OPEN: &str = "open";
const REFRESH_ALL: &str = "refresh_all";
const QUIT: &str = "quit";
const ACCOUNT: &str = "account:";

static ICON_OK: &[u8] = include_bytes!("../../icons/tray.png");
static ICON_ATTENTION: &[u8] = include_bytes!("../../icons/tray-attention.png");

/// The worst state of `all`: true when one needs the user.
pub fn needs_attention(all: &[ConnectionStatus]) -> bool {
    all.iter()
        .any(|c| c.state == ConnState::ReconnectNeeded || c.expired || !c.usable)
}

/// Puts the icon in the tray.
///
/// # Errors
/// The icon or menu could not be made.
pub fn create<R: Runtime>(app: &AppHandle<R>, lang: Lang) -> tauri::Result<()> {
    let menu = menu(app, lang, &[])?;
    TrayIconBuilder::with_id(ID)
        .icon(Image::from_bytes(ICON_OK)?)
        .tooltip(lang.tr("tray.tooltip_empty", &[]))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

/// Redraws the icon and menu for `all`.
pub fn update<R: Runtime>(app: &AppHandle<R>, lang: Lang, all: &[ConnectionStatus]) {
    let Some(tray) = app.tray_by_id(ID) else {
        return;
    };
    let attention = needs_attention(all);
    let (icon, tip) = match (all.is_empty(), attention) {
        (_, true) => (ICON_ATTENTION, "tray.tooltip_attention"),
        (true, false) => (ICON_OK, "tray.tooltip_empty"),
        (false, false) => (ICON_OK, "tray.tooltip_ok"),
    };
    if let Ok(img) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(img));
    }
    let _ = tray.set_tooltip(Some(lang.tr(tip, &[])));
    if let Ok(m) = menu(app, lang, all) {
        let _ = tray.set_menu(Some(m));
    }
}

fn menu<R: Runtime>(
    app: &AppHandle<R>,
    lang: Lang,
    all: &[ConnectionStatus],
) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    if all.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            lang.tr("tray.none", &[]),
            false,
            None::<&str>,
        )?)?;
    }
    for c in all {
        let state = lang.tr(&format!("state.{}", c.state.as_str()), &[]);
        let text = lang.tr(
            "tray.account",
            &[("account", &c.account), ("state", &state)],
        );
        let id = format!("{ACCOUNT}{}", c.account);
        menu.append(&MenuItem::with_id(app, id, text, true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        OPEN,
        lang.tr("tray.open", &[]),
        true,
        None::<&str>,
    )?)?;
    let refresh = lang.tr("tray.refresh_all", &[]);
    menu.append(&MenuItem::with_id(
        app,
        REFRESH_ALL,
        refresh,
        !all.is_empty(),
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        QUIT,
        lang.tr("tray.quit", &[]),
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        OPEN => window::show(app, None),
        REFRESH_ALL => app.state::<AppState>().host.refresh_all(),
        QUIT => {
            app.state::<AppState>().quitting();
            app.exit(0);
        }
        other => {
            if let Some(account) = other.strip_prefix(ACCOUNT) {
                window::show(app, Some(account.to_owned()));
            }
        }
    }
}
