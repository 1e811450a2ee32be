# SPDX-License-Identifier: MIT
"""An HTTP file server on the host's loopback that can hold one transfer open half-way.

qemu_migrate_test.sh migrates a guest while a download through the switch's NAT is in flight:
the host arms the server (touches DIR/../ARM), the next GET is answered with its full
Content-Length and the first half of the file, then the server touches HELD and waits until the
host touches RELEASE (after the switchover) before it sends the rest and touches DONE. Every
other request gets the whole file at once.

Usage: held_http.py PORT DIR CONTROL_DIR   (binds 127.0.0.1 only; files ARM, HELD, RELEASE,
DONE live in CONTROL_DIR; a held transfer gives up after 120 s)
"""
import http.server
import os
import sys
import threading
import time

port, root, ctl = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def touch(name, text=""):
    with open(os.path.join(ctl, name), "w") as f:
        f.write(text)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, os.path.basename(self.path))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            self.send_error(404)
            return
        with lock:
            arm = os.path.join(ctl, "ARM")
            held = os.path.exists(arm)
            if held:
                os.unlink(arm)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not held:
            self.wfile.write(data)
            return
        half = len(data) // 2
        self.wfile.write(data[:half])
        self.wfile.flush()
        touch("HELD", "%d\n" % half)
        end = time.monotonic() + 120
        while not os.path.exists(os.path.join(ctl, "RELEASE")) and time.monotonic() < end:
            time.sleep(0.05)
        self.wfile.write(data[half:])
        self.wfile.flush()
        touch("DONE", "%d\n" % len(data))

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
