//! `amo run`: the child gets a working token in its environment, never on a command line
//! and without the client secret; the signals that end a program reach it; its exit status
//! comes back, and it never outlives `amo`.
// Linux only: the children are POSIX shell scripts and the relayed signals are Unix's;
// tests/windows.rs proves the exit status and the environment on Windows.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Child, World};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn the_child_gets_a_token_the_emulator_accepts_in_its_environment() {
    let w = World::new();
    w.connect();
    let r = w.amo(&["run", "--", "sh", "-c", "test -n \"$AMO_ACCESS_TOKEN\""]);
    assert!(r.ok(), "{r}");
    let script = format!(
        "test \"$AMO_ACCOUNT_HOST\" = '{}' && test \"$AMO_API_BASE\" = '{}/api/v4' && \
         curl -fsS -o /dev/null -H \"Authorization: Bearer $AMO_ACCESS_TOKEN\" \
         \"$AMO_API_BASE/account\"",
        w.account(),
        w.emu.base_url()
    );
    let r = w.amo(&["run", "--", "sh", "-c", &script]);
    assert!(r.ok(), "{r}");
    assert_eq!(w.emu.stats().api_unauthorized, 0);
}

#[test]
fn the_childs_exit_status_passes_through() {
    let w = World::new();
    w.connect();
    for code in [0, 1, 7, 42] {
        let r = w.amo(&["run", "--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(r.code, code, "{r}");
    }
    let missing = w.amo(&["run", "--", "no-such-command-here"]);
    assert_eq!(missing.code, 127, "{missing}");
    assert!(missing.stderr.contains("no-such-command-here"), "{missing}");
}

#[test]
fn the_token_is_on_no_command_line_while_the_child_runs() {
    let w = World::new();
    w.connect();
    let dir = w.work.path().display().to_string();
    // Every process's argv while the child runs, checked with a pattern read from a file,
    // so the check itself never puts the token in an argv.
    let script = format!(
        "printf %s \"$AMO_ACCESS_TOKEN\" > '{dir}/tok'; \
         for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$p\" 2>/dev/null; echo; done \
         > '{dir}/argv'; grep -q -F -f '{dir}/tok' '{dir}/argv' && exit 3; \
         test -s '{dir}/tok'"
    );
    let r = w.amo(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 0, "a token on a command line is exit 3: {r}");
    assert!(
        !r.stdout.contains("eyJ") && !r.stderr.contains("eyJ"),
        "{r}"
    );
}

#[test]
fn without_a_connection_nothing_runs() {
    let w = World::new();
    let marker = w.work.path().join("ran");
    let r = w.amo(&["run", "--", "touch", marker.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r}");
    assert!(!marker.exists(), "the command did not run");
}

/// The signals `amo run` passes on, with their numbers on Linux.
const ENDING: [(&str, i32); 4] = [("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3)];

/// Sends `signal` (a name such as `TERM`) to `pid` alone.
fn send(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} {pid}");
}

/// Whether `pid` is still a live process (a zombie waiting for a reaper counts as ended).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// A child of `amo run` seen by its pid, killed when the test ends if it is still there (as
/// it was when `amo` left it behind).
struct Program(u32);

impl Drop for Program {
    fn drop(&mut self) {
        if !alive(self.0) {
            return;
        }
        // Its own children (the script's `sleep`) first, while they are still its.
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", self.0));
        let mut pids: Vec<String> = children
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        pids.push(self.0.to_string());
        let _ = Command::new("kill").arg("-KILL").args(&pids).status();
    }
}

/// Starts `amo run -- sh -c SCRIPT` and reads the child's first line, `ready PID`.
fn start_run(w: &World, script: &str) -> (Child, Program) {
    let mut cmd = w.cmd();
    cmd.args(["run", "--", "sh", "-c", script]);
    let mut amo = Child::spawn(cmd);
    let line = amo.next_line(LIMIT);
    let pid = line
        .strip_prefix("ready ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child says `ready PID` first: {line}"));
    (amo, Program(pid))
}

/// Waits (at most `LIMIT`) for `path` to be written, and reads it.
fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} was not written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child that writes the name of `signal` to `got` when it arrives and exits 3. It closes
/// its end of amo's output once it is ready, so a child left behind cannot hold the test.
/// Its `sleep` is ended with SIGKILL: a just-forked shell may still hold the trap's handler.
fn trapping(signal: &str, got: &Path) -> String {
    format!(
        "trap 'echo {signal} > \"{got}\"; kill -KILL $s; exit 3' {signal}; \
         sleep 600 >/dev/null 2>&1 & s=$!; echo \"ready $$\"; exec >/dev/null 2>&1; wait $s",
        got = got.display()
    )
}

#[test]
fn each_ending_signal_sent_to_amo_reaches_the_child_and_amo_returns_its_status() {
    let w = World::new();
    w.connect();
    for (signal, _) in ENDING {
        let got = w.work.path().join(format!("got-{signal}"));
        let (mut amo, child) = start_run(&w, &trapping(signal, &got));
        send(signal, amo.pid());
        let run = amo.finish(LIMIT);
        assert_eq!(
            run.code, 3,
            "SIG{signal}: amo returns the child's status: {run}"
        );
        assert_eq!(
            std::fs::read_to_string(&got).unwrap_or_default().trim(),
            signal,
            "the child got SIG{signal}"
        );
        assert!(
            !alive(child.0),
            "SIG{signal}: the child is gone when amo is"
        );
    }
}

#[test]
fn a_child_that_dies_of_the_passed_on_signal_makes_amo_exit_128_plus_its_number() {
    let w = World::new();
    w.connect();
    for (signal, number) in ENDING {
        // No core file for SIGQUIT.
        let script = "ulimit -c 0; echo \"ready $$\"; exec sleep 600 >/dev/null 2>&1";
        let (mut amo, child) = start_run(&w, script);
        send(signal, amo.pid());
        let run = amo.finish(LIMIT);
        assert_eq!(run.code, 128 + number, "SIG{signal}: {run}");
        assert!(
            !alive(child.0),
            "SIG{signal}: the child is gone when amo is"
        );
    }
}

#[test]
fn amo_killed_outright_takes_its_child_with_it() {
    let w = World::new();
    w.connect();
    let got = w.work.path().join("got-TERM");
    let (mut amo, child) = start_run(&w, &trapping("TERM", &got));
    send("KILL", amo.pid());
    let _ = amo.finish(LIMIT);
    assert_eq!(wait_for_file(&got).trim(), "TERM", "the child was told");
    let deadline = Instant::now() + LIMIT;
    while alive(child.0) {
        assert!(Instant::now() < deadline, "the child outlived amo");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_hangup_ignored_by_nohup_stays_ignored_for_the_child() {
    let w = World::new();
    w.connect();
    let cmd = w.cmd();
    let mut nohup = Command::new("nohup");
    nohup
        .arg(common::AMO)
        .args(["run", "--", "sh", "-c", "grep '^SigIgn:' /proc/$$/status"]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => nohup.env(k, v),
            None => nohup.env_remove(k),
        };
    }
    let r = common::Run::from(nohup.stdin(Stdio::null()).output().expect("nohup runs"));
    assert!(r.ok(), "{r}");
    let mask = r
        .stdout
        .trim()
        .strip_prefix("SigIgn:")
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or_else(|| panic!("a SigIgn line: {r}"));
    assert_eq!(mask & 1, 1, "SIGHUP (bit 1) stays ignored: {r}");
}

#[test]
fn the_child_gets_the_three_variables_and_not_the_client_secret() {
    let w = World::new();
    w.connect();
    let env = w.work.path().join("env");
    let script = format!("env > '{}'", env.display());
    let r = w.amo(&["run", "--", "sh", "-c", &script]);
    assert!(r.ok(), "{r}");
    let text = std::fs::read_to_string(&env).expect("the child wrote its environment");
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for var in ["AMO_ACCESS_TOKEN", "AMO_ACCOUNT_HOST", "AMO_API_BASE"] {
        assert!(names.contains(&var), "{var} is set: {names:?}");
    }
    assert!(!names.contains(&"AMO_CLIENT_SECRET"), "{names:?}");
    assert!(
        !text.contains(w.emu.client_secret()),
        "the client secret is in no variable of the child's"
    );
}
