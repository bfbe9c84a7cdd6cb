"""The processes an end-to-end run starts, shared by window.py and tray.py: each is the
leader of its own process group, so stopping it stops whatever it started too."""

import os
import random
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
    """A loopback port nothing listens on now, for a program that binds it later. It is taken
    below the kernel's ephemeral range (32768 and up by default): a port from bind(0) is free
    again once this check ends, and any outgoing connection may be given it before the program
    binds it. Below that range only an explicit bind takes a port."""
    start = random.randrange(_PORTS.start, _PORTS.stop)
    for i in range(len(_PORTS)):
        port = _PORTS.start + (start - _PORTS.start + i) % len(_PORTS)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free loopback port between 20000 and 32000")


_PORTS = range(20000, 32000)
