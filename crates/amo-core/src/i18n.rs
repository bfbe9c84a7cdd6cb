//! Message catalogues: every word a person reads comes from `locales/<lang>.json`.

use std::collections::HashMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/catalogues.rs"));

/// The fallback language, whose catalogue every other must match key for key.
pub const DEFAULT_LANG: &str = "en";

/// A language that has a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lang(&'static str);

impl Lang {
    /// The language whose catalogue is named `code` (`en`, `ru`, or `ru_RU.UTF-8`), if any.
    pub fn from_code(code: &str) -> Option<Lang> {
        let base = code
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        CATALOGUES
            .iter()
            .find(|(c, _)| *c == base)
            .map(|(c, _)| Lang(c))
    }

    /// The language from `AMO_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else
    /// the desktop's own (`sys-locale`: what macOS and Windows set for apps started from
    /// their desktop, where no `LANG` is), else English.
    pub fn detect() -> Lang {
        Self::detect_from(|k| std::env::var(k).ok(), sys_locale::get_locale)
    }

    /// As [`Lang::detect`], with the environment and the desktop's locale given as lookups.
    pub fn detect_from(
        var: impl Fn(&str) -> Option<String>,
        desktop: impl FnOnce() -> Option<String>,
    ) -> Lang {
        ["AMO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| var(k).filter(|v| !v.is_empty() && v != "C" && v != "POSIX"))
            .find_map(|v| Lang::from_code(&v))
            .or_else(|| desktop().and_then(|v| Lang::from_code(&v)))
            .unwrap_or_default()
    }

    /// Every language with a catalogue.
    pub fn all() -> impl Iterator<Item = Lang> {
        CATALOGUES.iter().map(|(c, _)| Lang(c))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// The message for `key`, with `{name}` placeholders filled from `args`.
    ///
    /// A key missing from this catalogue falls back to English, then to the key itself.
    pub fn tr(self, key: &str, args: &[(&str, &str)]) -> String {
        let text = catalogue(self)
            .get(key)
            .or_else(|| catalogue(Lang::default()).get(key))
            .map(String::as_str)
            .unwrap_or(key);
        fill(text, args)
    }

    /// This language's whole catalogue, for the window's page.
    pub fn messages(self) -> &'static HashMap<String, String> {
        catalogue(self)
    }
}

impl Default for Lang {
    fn default() -> Self {
        Lang::from_code(DEFAULT_LANG).expect("the English catalogue is embedded")
    }
}

fn catalogue(lang: Lang) -> &'static HashMap<String, String> {
    static PARSED: OnceLock<Vec<HashMap<String, String>>> = OnceLock::new();
    let all = PARSED.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(code, text)| {
                serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("locales/{code}.json is not a flat JSON map: {e}"))
            })
            .collect()
    });
    let i = CATALOGUES
        .iter()
        .position(|(c, _)| *c == lang.0)
        .unwrap_or(0);
    &all[i]
}

fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_the_same_keys_as_english() {
        let en = Lang::default().messages();
        for lang in Lang::all() {
            let other = lang.messages();
            let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, extra {extra:?}",
                lang.code()
            );
        }
    }

    /// Every field an error can name (`field: "…"` in an `InvalidInput`, a switch's name)
    /// has its words: otherwise the message shows the key itself.
    #[test]
    fn every_field_an_error_names_has_its_words() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        for dir in ["crates", "src-tauri/src"] {
            sources(&root.join(dir), &mut files);
        }
        let en = Lang::default().messages();
        let mut missing = std::collections::BTreeSet::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for marker in ["field: \"", "parse_switch(\""] {
                for rest in text.split(marker).skip(1) {
                    let name = rest.split('"').next().unwrap_or_default();
                    let is_name = !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    if is_name && !en.contains_key(format!("field.{name}").as_str()) {
                        missing.insert(format!("field.{name} ({})", file.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no words for {missing:?}");
    }

    #[test]
    fn every_catalogue_uses_the_same_placeholders_as_english() {
        let names = |s: &str| {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect::<std::collections::BTreeSet<String>>()
        };
        // A clock is the language's own: 24 or 12 hours, with or without AM/PM.
        let clock: std::collections::BTreeSet<String> =
            ["h24", "h12", "mm", "ss", "ampm"].map(String::from).into();
        let en = Lang::default().messages();
        for lang in Lang::all() {
            for (key, text) in lang.messages() {
                if key.starts_with("time.clock") {
                    assert!(names(text).is_subset(&clock), "{}: {key}", lang.code());
                } else {
                    assert_eq!(names(text), names(&en[key]), "{}: {key}", lang.code());
                }
            }
        }
    }

    #[test]
    fn locale_picks_the_language_and_falls_back_to_english() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let no_desktop = || None;
        let detect = |e| Lang::detect_from(e, no_desktop).code();
        assert_eq!(detect(env(&[("LANG", "ru_RU.UTF-8")])), "ru");
        assert_eq!(detect(env(&[("LANG", "en_US.UTF-8")])), "en");
        assert_eq!(detect(env(&[("LANG", "xx_YY")])), "en");
        assert_eq!(
            detect(env(&[("AMO_LANG", "en"), ("LANG", "ru_RU.UTF-8")])),
            "en"
        );
    }

    #[test]
    fn without_lang_the_desktops_locale_decides() {
        let nothing = |_: &str| None;
        assert_eq!(
            Lang::detect_from(nothing, || Some("ru-RU".into())).code(),
            "ru"
        );
        let c = |k: &str| (k == "LANG").then(|| "C".to_owned());
        assert_eq!(Lang::detect_from(c, || Some("ru-RU".into())).code(), "ru");
        assert_eq!(Lang::detect_from(nothing, || None).code(), "en");
        let lang = |k: &str| (k == "LANG").then(|| "en_US.UTF-8".to_owned());
        assert_eq!(
            Lang::detect_from(lang, || Some("ru-RU".into())).code(),
            "en"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("in {n} h", &[("n", "23")]), "in 23 h");
    }
}
