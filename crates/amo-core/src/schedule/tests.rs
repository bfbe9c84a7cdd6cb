//! The schedule driven by an injected clock: sleeps, keep-alive, retries and notices.

use super::*;
use std::sync::Mutex;

/// A wall clock the test moves by hand.
struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    fn at(t: DateTime<Utc>) -> FakeClock {
        FakeClock(Mutex::new(t))
    }
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn oauth(account: &str, now: DateTime<Utc>, lives: Duration) -> ConnectionStatus {
    ConnectionStatus {
        account: account.into(),
        name: None,
        account_id: None,
        kind: TokenKind::Oauth,
        client_id: None,
        access_token_masked: None,
        expires_at: Some(now + lives),
        expired: false,
        created_at: now,
        updated_at: now,
        last_refresh_at: None,
        last_error: None,
        reconnect_reason: None,
        state: ConnState::Connected,
        usable: true,
        storage: "storage.secret_service",
        api_base: None,
        moved_from: None,
    }
}

/// What a host does: a check every [`CHECK_EVERY`] of engine time until `until`, a refresh
/// that succeeds giving the token `lives` more; returns the times refreshes happened.
fn host(
    clock: &FakeClock,
    schedule: &mut Schedule,
    conn: &mut ConnectionStatus,
    lives: Duration,
    until: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DueReason)> {
    let mut done = Vec::new();
    while clock.now() < until {
        let now = clock.now();
        for a in schedule.check(now, std::slice::from_ref(conn)) {
            if let Action::Refresh { reason, .. } = a {
                conn.last_refresh_at = Some(now);
                conn.expires_at = Some(now + lives);
                schedule.refreshed(&conn.account);
                done.push((now, reason));
            }
        }
        clock.advance(CHECK_EVERY);
    }
    done
}

#[test]
fn a_jump_of_the_wall_clock_past_a_due_refresh_is_caught_up_within_a_minute() {
    let clock = FakeClock::at(start());
    let mut schedule = Schedule::default();
    let mut conn = oauth("sleepy.amocrm.ru", clock.now(), Duration::hours(24));
    let due_at = due(&conn).unwrap().at;
    // Awake for an hour: nothing is due yet.
    let early = host(
        &clock,
        &mut schedule,
        &mut conn,
        Duration::hours(24),
        start() + Duration::hours(1),
    );
    assert!(early.is_empty(), "{early:?}");
    // The lid closes for two days: the wall clock jumps past the due time in one step.
    clock.advance(Duration::days(2));
    let woke = clock.now();
    assert!(woke > due_at);
    let done = host(
        &clock,
        &mut schedule,
        &mut conn,
        Duration::hours(24),
        woke + Duration::minutes(5),
    );
    let (at, reason) = done.first().copied().expect("a refresh after waking");
    assert!(
        at - woke <= Duration::minutes(1),
        "refreshed {} after waking",
        at - woke
    );
    assert_eq!(reason, DueReason::Expiry);
    assert_eq!(done.len(), 1, "one catch-up refresh, not a burst: {done:?}");
}

#[test]
fn an_untouched_connection_is_refreshed_at_its_seven_day_mark() {
    let clock = FakeClock::at(start());
    let mut schedule = Schedule::default();
    // An access token that lives a month: expiry alone would wait 30 days.
    let lives = Duration::days(30);
    let mut conn = oauth("quiet.amocrm.ru", clock.now(), lives);
    assert_eq!(due(&conn).unwrap().reason, DueReason::KeepAlive);
    let done = host(
        &clock,
        &mut schedule,
        &mut conn,
        lives,
        start() + Duration::days(15),
    );
    let times: Vec<Duration> = done.iter().map(|(t, _)| *t - start()).collect();
    assert_eq!(done.len(), 2, "{times:?}");
    for (i, (t, reason)) in done.iter().enumerate() {
        assert_eq!(*reason, DueReason::KeepAlive);
        let mark = start() + KEEP_ALIVE * (i as i32 + 1);
        assert!(
            *t >= mark && *t - mark < CHECK_EVERY,
            "refresh {i} at {t}, mark {mark}"
        );
    }
}

#[test]
fn a_token_is_due_just_inside_the_margin() {
    let conn = oauth("x.amocrm.ru", start(), Duration::hours(24));
    let d = due(&conn).unwrap();
    assert_eq!(d.reason, DueReason::Expiry);
    assert_eq!(conn.expires_at.unwrap() - d.at, REFRESH_MARGIN);
}

#[test]
fn a_short_lived_token_is_not_refreshed_in_a_loop() {
    let mut conn = oauth("x.amocrm.ru", start(), Duration::seconds(60));
    conn.last_refresh_at = Some(start());
    let d = due(&conn).unwrap();
    assert_eq!(d.at - start(), Duration::seconds(30));
}

#[test]
fn long_lived_and_reconnect_needed_have_no_schedule() {
    let mut conn = oauth("x.amocrm.ru", start(), Duration::hours(1));
    conn.kind = TokenKind::LongLived;
    assert!(due(&conn).is_none());
    let mut conn = oauth("x.amocrm.ru", start(), Duration::hours(1));
    conn.state = ConnState::ReconnectNeeded;
    assert!(due(&conn).is_none());
}

fn revoked() -> Error {
    Error::ReconnectNeeded {
        account: "x.amocrm.ru".into(),
        reason: "Token has been revoked".into(),
    }
}

#[test]
fn a_revoked_connection_is_told_once_per_incident() {
    let lang = Lang::from_code("en").unwrap();
    let mut s = Schedule::default();
    let now = start();
    let n = s
        .failed("x.amocrm.ru", now, &revoked(), lang)
        .expect("told");
    assert_eq!(n.kind, NoticeKind::ReconnectNeeded);
    assert_eq!(n.account.as_deref(), Some("x.amocrm.ru"));
    let mut conn = oauth("x.amocrm.ru", now, Duration::hours(1));
    conn.state = ConnState::ReconnectNeeded;
    for i in 0..10 {
        let later = now + CHECK_EVERY * i;
        assert!(
            s.check(later, std::slice::from_ref(&conn)).is_empty(),
            "check {i}"
        );
    }
    // Connected again, then revoked again: a new incident, told again.
    conn.state = ConnState::Connected;
    s.check(now, std::slice::from_ref(&conn));
    conn.state = ConnState::ReconnectNeeded;
    let again = s.check(now, std::slice::from_ref(&conn));
    assert!(matches!(&again[..], [Action::Notify(n)] if n.kind == NoticeKind::ReconnectNeeded));
}

#[test]
fn three_failures_in_a_row_are_told_once_with_the_reason() {
    let lang = Lang::from_code("en").unwrap();
    let mut s = Schedule::default();
    let outage = Error::ServerError { status: 503 };
    let mut now = start();
    assert!(s.failed("x.amocrm.ru", now, &outage, lang).is_none());
    assert!(s.failed("x.amocrm.ru", now, &outage, lang).is_none());
    let n = s
        .failed("x.amocrm.ru", now, &outage, lang)
        .expect("third failure told");
    assert_eq!(n.kind, NoticeKind::RefreshFailing);
    assert_eq!(n.reason.as_deref(), Some(outage.message(lang).as_str()));
    let (title, body) = n.text(lang);
    assert!(body.contains("x.amocrm.ru") || title.contains("x.amocrm.ru"));
    assert!(
        s.failed("x.amocrm.ru", now, &outage, lang).is_none(),
        "told twice"
    );
    // Success ends the incident; three more failures are a new one.
    s.refreshed("x.amocrm.ru");
    for _ in 0..2 {
        now += Duration::minutes(1);
        assert!(s.failed("x.amocrm.ru", now, &outage, lang).is_none());
    }
    assert!(s.failed("x.amocrm.ru", now, &outage, lang).is_some());
}

#[test]
fn a_failure_waits_with_backoff_before_the_next_try() {
    let lang = Lang::from_code("en").unwrap();
    let mut s = Schedule::default();
    let conn = oauth("x.amocrm.ru", start(), Duration::minutes(15));
    let now = due(&conn).unwrap().at;
    assert!(s
        .check(now - CHECK_EVERY, std::slice::from_ref(&conn))
        .is_empty());
    assert!(matches!(
        &s.check(now, std::slice::from_ref(&conn))[..],
        [Action::Refresh { .. }]
    ));
    s.failed(
        "x.amocrm.ru",
        now,
        &Error::ServerError { status: 503 },
        lang,
    );
    let next = s.next(&conn).unwrap();
    assert_eq!(
        (next.at - now, next.reason),
        (RETRY_FIRST, DueReason::Retry)
    );
    assert!(s
        .check(now + CHECK_EVERY, std::slice::from_ref(&conn))
        .is_empty());
    let later = s.check(now + RETRY_FIRST, std::slice::from_ref(&conn));
    assert!(matches!(
        &later[..],
        [Action::Refresh {
            reason: DueReason::Retry,
            ..
        }]
    ));
    s.failed(
        "x.amocrm.ru",
        now,
        &Error::ServerError { status: 503 },
        lang,
    );
    assert_eq!(s.next(&conn).unwrap().at - now, RETRY_FIRST * 2);
}

#[test]
fn a_long_lived_token_ending_within_seven_days_is_told_once() {
    let lang = Lang::from_code("ru").unwrap();
    let mut s = Schedule::default();
    let now = start();
    let mut conn = oauth("ll.amocrm.ru", now, Duration::days(10));
    conn.kind = TokenKind::LongLived;
    assert!(s.check(now, std::slice::from_ref(&conn)).is_empty());
    let later = now + Duration::days(3) + Duration::minutes(1);
    let told = s.check(later, std::slice::from_ref(&conn));
    let [Action::Notify(n)] = &told[..] else {
        panic!("{told:?}")
    };
    assert_eq!(n.kind, NoticeKind::LongLivedExpiring);
    let (title, body) = n.text(lang);
    assert!(format!("{title} {body}").contains("ll.amocrm.ru"));
    assert!(s
        .check(later + Duration::hours(1), std::slice::from_ref(&conn))
        .is_empty());
}

#[test]
fn a_keychain_that_stops_answering_is_told_once_until_it_answers_again() {
    let lang = Lang::from_code("en").unwrap();
    let mut s = Schedule::default();
    let locked = Error::KeychainUnavailable {
        reason: "locked".into(),
    };
    assert!(s.check_failed(&locked, lang).is_some());
    assert!(s.check_failed(&locked, lang).is_none());
    s.check(start(), &[]);
    assert!(s.check_failed(&locked, lang).is_some());
}

#[test]
fn what_was_told_before_a_restart_is_not_told_again() {
    let lang = Lang::from_code("en").unwrap();
    let mut first = Schedule::default();
    assert!(first
        .failed("x.amocrm.ru", start(), &revoked(), lang)
        .is_some());
    let mut second = Schedule::with_told(first.told().clone());
    let mut conn = oauth("x.amocrm.ru", start(), Duration::hours(1));
    conn.state = ConnState::ReconnectNeeded;
    assert!(second.check(start(), &[conn]).is_empty());
}

#[test]
fn every_notice_has_words_in_every_language() {
    for lang in Lang::all() {
        for kind in [
            NoticeKind::ReconnectNeeded,
            NoticeKind::RefreshFailing,
            NoticeKind::LongLivedExpiring,
            NoticeKind::KeychainUnavailable,
        ] {
            for part in ["title", "body"] {
                let key = format!("notice.{}.{part}", kind.as_str());
                assert!(
                    lang.messages().contains_key(&key),
                    "{} lacks {key}",
                    lang.code()
                );
            }
        }
    }
}
