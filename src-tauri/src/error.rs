//! The window's error: the engine's view of a failure, in the window's language.

use amo_core::{Engine, ErrorView, Lang};
use serde::{Serialize, Serializer};

pub type Result<T> = std::result::Result<T, Error>;

/// What a command tells the page when it fails; it never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine refused or failed; `field` names the form field to mark, if any.
    #[error("{}", .view.message)]
    Engine {
        view: Box<ErrorView>,
        field: Option<&'static str>,
    },
    /// Open again or paste without a flow waiting.
    #[error("{}", .view.message)]
    NoFlow { view: Box<ErrorView> },
    /// A background task died; the window keeps working.
    #[error("{}", .view.message)]
    Task { view: Box<ErrorView> },
    /// The clipboard would not take the text (the desktop's clipboard is not reachable).
    #[error("{}", .view.message)]
    Clipboard { view: Box<ErrorView> },
}

impl Error {
    /// The engine's `e`, in `lang`.
    pub fn engine(e: amo_core::Error, lang: Lang) -> Error {
        let field = match &e {
            amo_core::Error::InvalidInput { field, .. } => Some(*field),
            amo_core::Error::NotConfigured { what } => Some(*what),
            amo_core::Error::InvalidRedirectUri { .. } => Some("redirect_uri"),
            amo_core::Error::RefererNotAllowed { .. } => Some("account"),
            _ => None,
        };
        Error::Engine {
            view: Box::new(e.view(lang)),
            field,
        }
    }

    pub fn no_flow(lang: Lang) -> Error {
        Error::NoFlow {
            view: Box::new(own_view("no_flow", lang, &[])),
        }
    }

    pub fn task(reason: &str, lang: Lang) -> Error {
        Error::Task {
            view: Box::new(own_view("task", lang, &[("reason", reason)])),
        }
    }

    pub fn clipboard(reason: &str, lang: Lang) -> Error {
        Error::Clipboard {
            view: Box::new(own_view("clipboard", lang, &[("reason", reason)])),
        }
    }

    fn parts(&self) -> (&ErrorView, Option<&'static str>) {
        match self {
            Error::Engine { view, field } => (view, *field),
            Error::NoFlow { view } | Error::Task { view } | Error::Clipboard { view } => {
                (view, None)
            }
        }
    }
}

/// An error of the window itself, worded from the `ui.error.*` and `ui.fix.*` keys.
fn own_view(kind: &str, lang: Lang, args: &[(&str, &str)]) -> ErrorView {
    ErrorView {
        kind: kind.to_owned(),
        message: lang.tr(&format!("ui.error.{kind}"), args),
        fix: lang.tr(&format!("ui.fix.{kind}"), args),
        amo: None,
        quote: None,
    }
}

impl Serialize for Error {
    /// `{kind, message, fix, amo?, field?}`: what the page shows inline.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            view: &'a ErrorView,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'static str>,
        }
        let (view, field) = self.parts();
        Shown { view, field }.serialize(s)
    }
}

/// Puts an engine result into the window's language.
pub trait Localize<T> {
    fn ui(self, engine: &Engine) -> Result<T>;
}

impl<T> Localize<T> for amo_core::Result<T> {
    fn ui(self, engine: &Engine) -> Result<T> {
        self.map_err(|e| Error::engine(e, engine.lang()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_error_serialises_with_its_fix_and_field() {
        let e = amo_core::Error::InvalidInput {
            field: "client_id",
            value: "a b".into(),
        };
        let json = serde_json::to_value(Error::engine(e, Lang::default())).unwrap();
        assert_eq!(json["kind"], "invalid_input");
        assert_eq!(json["field"], "client_id");
        assert!(json["fix"].as_str().is_some_and(|f| !f.is_empty()));
        assert!(json.get("amo").is_none());
    }

    #[test]
    fn own_errors_come_from_the_catalogue() {
        let json = serde_json::to_value(Error::no_flow(Lang::default())).unwrap();
        assert_eq!(json["kind"], "no_flow");
        assert!(!json["message"].as_str().unwrap().starts_with("ui."));
    }
}
