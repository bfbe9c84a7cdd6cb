use super::*;

fn host(h: &str) -> AccountHost {
    AccountHost::parse(h).unwrap()
}

/// A data folder and the windows of requests of `client_id` to `account` in it.
struct Folder {
    _tmp: tempfile::TempDir,
    dir: DataDir,
}

impl Folder {
    fn new() -> Folder {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        std::fs::create_dir_all(dir.locks().join("rate")).unwrap();
        Folder { _tmp: tmp, dir }
    }

    fn windows(&self, client_id: Option<&str>, account: &str) -> Vec<(PathBuf, usize)> {
        let account = host(account);
        [Budget::Integration(client_id), Budget::Account(&account)]
            .into_iter()
            .map(|b| (b.path(&self.dir, &account), b.limit()))
            .collect()
    }

    /// Whether one more request goes now.
    fn take(&self, client_id: Option<&str>, account: &str) -> bool {
        try_take(&self.windows(client_id, account), Lock::Wait)
            .unwrap()
            .expect("a waited lock is always taken")
            .is_ok()
    }
}

#[test]
fn the_eighth_request_in_a_window_waits_for_the_oldest_to_leave() {
    let mut sent: Vec<u64> = (0..7).map(|i| 1_000 + i * 10).collect();
    assert_eq!(
        room(&mut sent, 1_100, 1_050, 7),
        Some(Duration::from_millis(950))
    );
    assert_eq!(room(&mut sent, 2_050, 1_050, 7), None);
    assert_eq!(sent.len(), 6, "the oldest left: {sent:?}");
}

#[test]
fn accounts_of_one_integration_share_its_seven_and_other_integrations_do_not_wait() {
    let f = Folder::new();
    for i in 0..PER_INTEGRATION {
        let account = format!("a{i}.amocrm.ru");
        assert!(f.take(Some("one"), &account), "request {i}");
    }
    assert!(
        !f.take(Some("one"), "another.amocrm.ru"),
        "the eighth of one integration waits, whatever its account"
    );
    for i in 0..PER_INTEGRATION {
        assert!(
            f.take(Some("two"), "a0.amocrm.ru"),
            "the other's request {i}"
        );
    }
    assert!(!f.take(Some("two"), "b.amocrm.ru"));
    // Long-lived tokens, whose integration is not known, count per account.
    for _ in 0..PER_INTEGRATION {
        assert!(f.take(None, "long.amocrm.ru"));
    }
    assert!(!f.take(None, "long.amocrm.ru"));
    assert!(f.take(None, "other-long.amocrm.ru"));
}

#[test]
fn one_account_takes_at_most_fifty_across_integrations() {
    let f = Folder::new();
    let mut went = 0;
    for i in 0..10 {
        let id = format!("integration-{i}");
        while f.take(Some(&id), "busy.amocrm.ru") {
            went += 1;
        }
    }
    assert_eq!(went, PER_ACCOUNT);
    let refused = f.windows(Some("integration-9"), "busy.amocrm.ru");
    let integration = std::fs::read_to_string(&refused[0].0).unwrap();
    assert_eq!(
        integration.lines().count(),
        PER_ACCOUNT - 7 * PER_INTEGRATION,
        "a refused request counts against no window: {integration:?}"
    );
}

#[test]
fn a_window_file_of_bytes_that_are_not_text_is_taken_as_empty_and_rewritten() {
    let f = Folder::new();
    let windows = f.windows(Some("id"), "x.amocrm.ru");
    for (path, _) in &windows {
        std::fs::write(path, b"\xff\xfe\x00garbage\n\xc3(\n").unwrap();
    }
    let taken = try_take(&windows, Lock::Wait)
        .expect("the spoiled file does not stop the call")
        .expect("a waited lock is always taken");
    assert!(taken.is_ok(), "{taken:?}");
    for (path, _) in &windows {
        let text = String::from_utf8(std::fs::read(path).unwrap()).expect("rewritten as text");
        assert_eq!(text.lines().count(), 1, "only the new send time: {text:?}");
    }
}

#[test]
fn a_damaged_window_is_read_as_what_it_still_says() {
    let f = Folder::new();
    let windows = f.windows(Some("id"), "x.amocrm.ru");
    let now = now_ms();
    std::fs::write(&windows[0].0, format!("junk\n\n{}\n", now - 10)).unwrap();
    assert!(matches!(
        try_take(&windows, Lock::Wait).unwrap(),
        Some(Ok(_))
    ));
    let text = std::fs::read_to_string(&windows[0].0).unwrap();
    assert_eq!(text.lines().count(), 2, "{text:?}");
}

#[test]
fn a_window_file_grown_past_any_window_is_cut_back_to_its_times() {
    let f = Folder::new();
    let windows = f.windows(Some("id"), "x.amocrm.ru");
    let now = now_ms();
    let junk = format!("{}\n{}", now - 10, "9".repeat(3 * MAX_FILE));
    std::fs::write(&windows[0].0, junk).unwrap();
    assert!(matches!(
        try_take(&windows, Lock::Wait).unwrap(),
        Some(Ok(_))
    ));
    let text = std::fs::read_to_string(&windows[0].0).unwrap();
    assert!(text.len() < 100, "cut: {} bytes", text.len());
    assert_eq!(
        text.lines().count(),
        2,
        "the time it held and the new one: {text:?}"
    );
}

#[tokio::test]
async fn a_slot_is_counted_from_when_it_is_dropped() {
    let f = Folder::new();
    let account = host("x.amocrm.ru");
    let slot = acquire(&f.dir, Some("id"), &account).await.unwrap();
    let taken = slot.taken;
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(slot);
    let path = Budget::Integration(Some("id")).path(&f.dir, &account);
    let text = std::fs::read_to_string(path).unwrap();
    let stamped: u64 = text.trim().parse().unwrap();
    assert!(stamped >= taken + 20, "{stamped} vs {taken}");
}

#[test]
fn a_try_while_another_holds_a_window_changes_nothing() {
    let f = Folder::new();
    let windows = f.windows(Some("id"), "x.amocrm.ru");
    assert!(f.take(Some("id"), "x.amocrm.ru"));
    let before: Vec<String> = windows
        .iter()
        .map(|(p, _)| std::fs::read_to_string(p).unwrap())
        .collect();
    // Another holder of the account's window (the second one taken).
    let held = std::fs::File::open(&windows[1].0).unwrap();
    held.lock().unwrap();
    assert_eq!(try_take(&windows, Lock::Try).unwrap(), None);
    let after: Vec<String> = windows
        .iter()
        .map(|(p, _)| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(before, after, "nothing written while a lock was held");
    drop(held);
    assert!(matches!(
        try_take(&windows, Lock::Try).unwrap(),
        Some(Ok(_))
    ));
}

#[test]
fn threads_of_one_process_share_a_window_as_processes_do() {
    // The process keeps each window file open, so a file lock alone would not keep its own
    // threads apart: thirty-two let go at once still get seven slots in all, every time.
    for round in 0..20 {
        let f = std::sync::Arc::new(Folder::new());
        let start = std::sync::Arc::new(std::sync::Barrier::new(32));
        let taken: usize = (0..32)
            .map(|_| {
                let (f, start) = (f.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    f.take(Some("one"), "a.amocrm.ru")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(taken, PER_INTEGRATION, "round {round}");
    }
}
