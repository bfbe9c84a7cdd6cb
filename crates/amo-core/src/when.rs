//! Times as a person reads them: local, in the language's own format, with its plural
//! rules ("через 23 часа", "5 minutes ago"), from the catalogues; no ICU needed.

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};
use serde::Serialize;

use crate::i18n::Lang;

/// A moment for the window: the instant itself and how it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct When {
    /// The instant, for machines (`<time datetime>`).
    pub iso: DateTime<Utc>,
    /// Date and time, local, in the language's format: `27 ноября 2026 г., 14:00`.
    pub text: String,
    /// Relative to now: `через 23 часа`, `5 minutes ago`.
    pub rel: String,
}

impl When {
    /// `at` as read in `lang`, relative to `now`, in the machine's time zone.
    pub fn new(lang: Lang, at: DateTime<Utc>, now: DateTime<Utc>) -> When {
        When {
            iso: at,
            text: date_time(lang, &at.with_timezone(&Local)),
            rel: relative(lang, at, now),
        }
    }
}

/// Which plural form `n` takes in `lang`: an index into a message's `|`-separated forms.
///
/// The rule family is the catalogue's `language.plural`: `one_other` (English: 1 | other)
/// or `one_few_many` (Russian and its neighbours: 1, 21 | 2–4, 22–24 | 0, 5–20, 25…).
pub fn plural_index(lang: Lang, n: u64) -> usize {
    match lang.tr("language.plural", &[]).as_str() {
        "one_few_many" => {
            let (m10, m100) = (n % 10, n % 100);
            if m10 == 1 && m100 != 11 {
                0
            } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
                1
            } else {
                2
            }
        }
        "none" => 0,
        _ => usize::from(n != 1),
    }
}

/// The message `key` whose text is `|`-separated plural forms, in the form `n` takes,
/// with `{n}` and `args` filled in.
pub fn plural(lang: Lang, key: &str, n: u64, args: &[(&str, &str)]) -> String {
    let count = n.to_string();
    let mut all = vec![("n", count.as_str())];
    all.extend_from_slice(args);
    let text = lang.tr(key, &all);
    let forms: Vec<&str> = text.split('|').collect();
    let i = plural_index(lang, n).min(forms.len() - 1);
    forms[i].to_owned()
}

/// "in 23 hours", "через 23 часа", "5 минут назад": the largest whole unit.
pub fn relative(lang: Lang, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    let abs = secs.unsigned_abs();
    if abs < 45 {
        return lang.tr("time.now", &[]);
    }
    let (n, unit) = match abs {
        0..=3_569 => ((abs + 30) / 60, "minute"),
        3_570..=171_899 => ((abs + 1_800) / 3_600, "hour"),
        _ => ((abs + 43_200) / 86_400, "day"),
    };
    let dir = if secs >= 0 { "in" } else { "ago" };
    plural(lang, &format!("time.{dir}.{unit}"), n.max(1), &[])
}

/// A length of time in the largest unit it fills whole: "24 hours", "11 минут", "2 days";
/// a part of a minute counts as a whole one.
pub fn span(lang: Lang, secs: i64) -> String {
    let secs = secs.unsigned_abs();
    let (n, unit) = match secs {
        s if s >= 2 * 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s => (s.div_ceil(60), "minute"),
    };
    plural(lang, &format!("time.span.{unit}"), n, &[])
}

/// A date and time in `lang`'s format: `Nov 27, 2026, 2:00 PM`, `27 ноября 2026 г., 14:00`.
pub fn date_time<Tz: TimeZone>(lang: Lang, t: &DateTime<Tz>) -> String {
    let month = lang.tr(&format!("time.month.{}", t.month()), &[]);
    let (day, year) = (t.day().to_string(), t.year().to_string());
    let time = clock_short(lang, t);
    lang.tr(
        "time.date_time",
        &[
            ("day", &day),
            ("month", &month),
            ("year", &year),
            ("time", &time),
        ],
    )
}

/// Hours and minutes: `2:00 PM`, `14:00`.
pub fn clock_short<Tz: TimeZone>(lang: Lang, t: &DateTime<Tz>) -> String {
    fill_clock(lang, "time.clock_short", t)
}

/// Hours, minutes and seconds, for the activity list: `2:00:54 PM`, `14:00:54`.
pub fn clock<Tz: TimeZone>(lang: Lang, t: &DateTime<Tz>) -> String {
    fill_clock(lang, "time.clock", t)
}

fn fill_clock<Tz: TimeZone>(lang: Lang, key: &str, t: &DateTime<Tz>) -> String {
    let (pm, h12) = t.hour12();
    let ampm = lang.tr(if pm { "time.pm" } else { "time.am" }, &[]);
    lang.tr(
        key,
        &[
            ("h24", &format!("{:02}", t.hour())),
            ("h12", &h12.to_string()),
            ("mm", &format!("{:02}", t.minute())),
            ("ss", &format!("{:02}", t.second())),
            ("ampm", &ampm),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, FixedOffset};

    fn ru() -> Lang {
        Lang::from_code("ru").unwrap()
    }
    fn en() -> Lang {
        Lang::from_code("en").unwrap()
    }

    #[test]
    fn russian_plurals_follow_one_few_many() {
        let now = Utc::now();
        let in_hours = |h| relative(ru(), now + Duration::hours(h), now);
        assert_eq!(in_hours(23), "через 23 часа");
        assert_eq!(in_hours(21), "через 21 час");
        assert_eq!(in_hours(11), "через 11 часов");
        assert_eq!(in_hours(5), "через 5 часов");
        let ago_minutes = |m| relative(ru(), now - Duration::minutes(m), now);
        assert_eq!(ago_minutes(5), "5 минут назад");
        assert_eq!(ago_minutes(1), "1 минуту назад");
        assert_eq!(ago_minutes(22), "22 минуты назад");
        assert_eq!(ago_minutes(12), "12 минут назад");
        assert_eq!(relative(ru(), now + Duration::days(3), now), "через 3 дня");
        assert_eq!(relative(ru(), now, now), "только что");
    }

    #[test]
    fn english_plurals_follow_one_other() {
        let now = Utc::now();
        assert_eq!(
            relative(en(), now + Duration::hours(23), now),
            "in 23 hours"
        );
        assert_eq!(
            relative(en(), now - Duration::minutes(1), now),
            "1 minute ago"
        );
        assert_eq!(relative(en(), now - Duration::days(2), now), "2 days ago");
    }

    #[test]
    fn every_plural_message_has_as_many_forms_as_its_language_needs() {
        for lang in Lang::all() {
            let needed = (0..200).map(|n| plural_index(lang, n)).max().unwrap() + 1;
            for (key, text) in lang.messages() {
                if key.starts_with("time.in.") || key.starts_with("time.ago.") {
                    assert_eq!(text.split('|').count(), needed, "{}: {key}", lang.code());
                }
            }
        }
    }

    #[test]
    fn dates_read_in_the_language_with_a_local_clock() {
        let t = FixedOffset::east_opt(3 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 27, 15, 0, 54)
            .unwrap();
        assert_eq!(date_time(ru(), &t), "27 ноября 2026 г., 15:00");
        assert_eq!(date_time(en(), &t), "Nov 27, 2026, 3:00 PM");
        assert_eq!(clock(ru(), &t), "15:00:54");
        assert_eq!(clock(en(), &t), "3:00:54 PM");
    }
}
