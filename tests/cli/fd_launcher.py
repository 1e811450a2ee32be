#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Test launcher playing libvirt for the backend-program conventions: makes the vhost-user socket
# itself and execs the backend with it as fd 3 (`--fd 3`).
# Usage: fd_launcher.py listen|accept SOCKET_PATH BACKEND [ARGS...]
#   listen: hand over the listening socket (the backend accepts frontends on it);
#   accept: wait for one frontend to connect, then hand over the connected socket (what libvirt
#           does: the backend never sees a path).
# Prints "LISTENING" (flushed) once SOCKET_PATH accepts connections.
import os
import socket
import sys

mode, path, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
if os.path.exists(path):
    os.unlink(path)
lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lsock.bind(path)
lsock.listen(1)
print("LISTENING", flush=True)
if mode == "accept":
    conn, _ = lsock.accept()
    lsock.close()
    os.unlink(path)
    handed = conn
elif mode == "listen":
    handed = lsock
else:
    sys.exit("fd_launcher: mode must be listen or accept")
fd = handed.detach()
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.set_inheritable(3, True)  # Python makes sockets close-on-exec
os.execv(argv[0], argv + ["--fd", "3"])
