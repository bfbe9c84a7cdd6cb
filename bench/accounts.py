"""The data folder of an agency with dozens of accounts, which the benchmarks list beside a
folder with one: N connections made with `amo` against one `amo-emulator --accounts`, most
through OAuth (an authorization code, exchanged), every tenth with a long-lived token. Both
folders use the same emulator and the same environment, so what differs is the number of
connections alone. Run by bench/bench.py and bench/tray.py.

The emulator's first account is the one-account folder's; the agency's are the ones after it,
so no token item of one folder is ever replaced by the other's (the keychain files tokens by
account host).
"""

import http.client
import json
import subprocess
import time
from urllib.parse import parse_qs, urlencode, urlsplit


class SetupError(Exception):
    """The folder could not be made: the emulator or `amo` refused."""


def long_lived(k):
    """Whether the agency's k-th account (from 1) connects with a long-lived token: every
    tenth, the 3rd, 13th, 23rd…, so a folder of a few accounts has one too."""
    return k % 10 == 3


def describe(n):
    """How the agency's `n` connections were made, in words."""
    lived = sum(1 for k in range(1, n + 1) if long_lived(k))
    return f"{n - lived} through OAuth, {lived} with a long-lived token"


def hosts_of(emu):
    """The agency's account hosts: every account of the emulator but the first."""
    return emu["account_hosts"][1:]


def env_with_accounts(env, emu):
    """`env` trusting every account of the emulator (`AMO_EMULATOR_ACCOUNTS`)."""
    others = ",".join(hosts_of(emu))
    return {**env, "AMO_EMULATOR_ACCOUNTS": others} if others else env


def connect_agency(bins, emu, env):
    """Connects every account but the first into the data folder of `env`, one after another,
    as a person would; returns the seconds it took. The folder must trust them
    (`env_with_accounts`). The connector's shared limiter (7 calls of one integration per
    1.01 s, 2 per OAuth connect) sets the pace: `amo` processes side by side go no faster."""
    t0 = time.perf_counter()
    for k, host in enumerate(hosts_of(emu), start=1):
        connect(bins, emu, env, k, host)
    return time.perf_counter() - t0


def connect(bins, emu, env, k, host):
    """Connects the agency's k-th account (the emulator's number k + 1), at `host`."""
    amo = str(bins / "amo")
    if long_lived(k):
        cmd, stdin = [amo, "connect", "--long-lived-token", "--account", host], \
            long_lived_token(host)
    else:
        code, referer = authorization_code(emu, k + 1)
        if referer != host:
            raise SetupError(f"account {k + 1} answered as {referer}, not {host}")
        cmd, stdin = [amo, "connect", "--code", code, "--account", host], None
    r = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError(f"{' '.join(cmd[:3])} for {host} failed ({r.returncode}):\n"
                         f"{r.stdout}{r.stderr}")


def authorization_code(emu, number):
    """A code for account `number` (from 1), as the consent page grants it when the user picks
    that account and allows (the emulator runs with --auto-approve): the authorize address
    with `account=N`, its redirect read, not followed. Returns (code, referer)."""
    base = urlsplit(emu["base_url"])
    query = urlencode({"client_id": emu["client_id"], "state": "bench", "account": number})
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    try:
        conn.request("GET", f"/oauth?{query}")
        r = conn.getresponse()
        r.read()
        location = r.getheader("Location") or ""
    finally:
        conn.close()
    q = parse_qs(urlsplit(location).query)
    if r.status != 302 or "code" not in q:
        raise SetupError(f"authorize for account {number}: {r.status} to {location!r}")
    return q["code"][0], q["referer"][0]


def long_lived_token(host):
    """A long-lived token of the emulator's integration for the account at `host`, from its
    control endpoint."""
    hostname, port = host.rsplit(":", 1)
    conn = http.client.HTTPConnection(hostname, int(port), timeout=30)
    try:
        conn.request("POST", "/_emulator/long-lived-token", body=b"{}",
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status != 200:
        raise SetupError(f"long-lived token for {host}: {r.status} {body[:200]!r}")
    return json.loads(body)["token"]


def check_listed(bins, env, n):
    """`amo status --json` in `env`'s folder lists `n` connections, every one usable."""
    out = subprocess.run([str(bins / "amo"), "status", "--json"], env=env,
                         capture_output=True, check=True).stdout
    listed = json.loads(out)
    usable = sum(1 for c in listed if c["usable"])
    if len(listed) != n or usable != n:
        raise SetupError(f"amo status lists {len(listed)} connections, {usable} usable; "
                         f"expected {n}")


def forget(hosts):
    """Removes the token items of `hosts` from the keychain: what a run stored, it takes
    away (the data folders go with the run's temporary folder)."""
    for host in hosts:
        subprocess.run(["secret-tool", "clear", "service", "amo-connector", "username",
                        f"tokens:{host}"], capture_output=True)
