"""The processes an end-to-end run starts, shared by window.py and tray.py: each is the
leader of its own process group, so stopping it stops whatever it started too."""

import os
import signal
import socket
import subprocess

children = []  # Popen objects, oldest first


def spawn(args, env=None, **kw):
    p = subprocess.Popen(args, env=env, start_new_session=True, **kw)
    children.append(p)
    return p


def stop(p, grace=10):
    """SIGTERM to the group, SIGKILL after `grace` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
    if p in children:
        children.remove(p)


def stop_all(keep=()):
    """Stops every child but `keep`, newest first."""
    for p in list(reversed(children)):
        if p not in keep:
            stop(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
