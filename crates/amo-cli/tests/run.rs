//! `amo run`: the child gets a working token in its environment, never on a command line,
//! and its exit status comes back.

mod common;

use common::World;

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
