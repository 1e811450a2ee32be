// SPDX-License-Identifier: MIT
// Staying attached to a live capture (file=-): stop signals, reader-gone detection, capture-stop.
#pragma once

#include <string>

namespace uvs::ctl {

/// Makes SIGINT, SIGTERM and SIGHUP set a flag instead of killing the process (no SA_RESTART,
/// so a blocking open/poll returns EINTR at once) and ignores SIGPIPE. Call before blocking.
void install_stop_signals();
/// True once one of those signals arrived.
bool stop_requested();

/// Follows capture `id`, whose pcap stream the daemon at `control` writes to `out_fd` (a pipe
/// or FIFO this process also holds): returns when a stop signal arrives or the reader of
/// `out_fd` goes away (POLLERR/POLLHUP on the write end), stopping the capture, or when the
/// capture ends in the daemon. Messages go to stderr prefixed with `program`. Returns the exit
/// code: 0, or 1 when the daemon cannot be reached any more. Installs install_stop_signals().
int follow_live_capture(unsigned id, int out_fd, const std::string& control, const char* program);

}  // namespace uvs::ctl
