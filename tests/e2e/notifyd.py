#!/usr/bin/python3
"""A test notification server on the session bus: owns org.freedesktop.Notifications, writes
each Notify call as one JSON line to the file named by argv[1], and on the test's request
(`test.amo.Notifications.Click(id)`) emits ActionInvoked(id, "default") as a click would.

`notifyd.py --monitor FILE` serves nothing: it watches the Notify calls made to whatever
notification daemon runs (dunst in the tests) as a bus monitor (BecomeMonitor) and writes
them to FILE in the same form.

Runs with the system's Python (dbus-python and PyGObject: python3-dbus, python3-gi).
"""

import json
import sys
import time

import dbus
import dbus.lowlevel
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, out):
        super().__init__(bus, PATH)
        self.out = out
        self.last = 0

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        self.last += 1
        write(self.out, self.last, app, summary, body, actions)
        return self.last

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("amo-test-notifyd", "amo-connector", "1", "1.2")

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.method("test.amo.Notifications", in_signature="u", out_signature="")
    def Click(self, nid):
        self.ActionInvoked(nid, "default")


def write(out, nid, app, summary, body, actions):
    """One Notify call as a JSON line, with the time it was seen."""
    line = {"id": nid, "app": str(app), "summary": str(summary), "body": str(body),
            "actions": [str(a) for a in actions], "at": time.time()}
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


def monitor(out):
    """Writes every Notify call on the session bus to `out` until killed."""
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()

    def seen(_conn, msg):
        if (msg.get_type() == dbus.lowlevel.MESSAGE_TYPE_METHOD_CALL
                and msg.get_interface() == IFACE and msg.get_member() == "Notify"):
            app, _replaces, _icon, summary, body, actions, _hints, _timeout = \
                msg.get_args_list()
            write(out, 0, app, summary, body, actions)
        # A monitor must never answer: everything counts as handled.
        return dbus.lowlevel.HANDLER_RESULT_HANDLED

    bus.add_message_filter(seen)
    rule = f"type='method_call',interface='{IFACE}',member='Notify'"
    bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                      "org.freedesktop.DBus.Monitoring", "BecomeMonitor", "asu", ([rule], 0))
    print("ready", flush=True)
    GLib.MainLoop().run()


def main():
    if sys.argv[1] == "--monitor":
        monitor(sys.argv[2])
        return
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    Server(bus, sys.argv[1])
    _name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
