// SPDX-License-Identifier: MIT
// Config file: a TOML document with the same keys as the flags, read into a ConfigLayer.
#pragma once

#include <string>
#include <string_view>

#include "config/config_layer.h"
#include "config/result.h"

namespace uvs::config {

/// Reads the TOML config file at `path`. Format (keys are the flag names):
///
///     threads = 2                  # top level: threads, control, poll-max-ns, poll-grow,
///     poll-max-ns = 50000          #   poll-shrink, log-level, fdb-aging
///     log-level = "debug"
///
///     [[port]]                     # one table per --port; keys as in the keyval spec
///     type = "vhost-user"
///     id = "vm0"
///     path = "/run/uvswitch/vm0.sock"
///     server = true                # booleans, integers or strings ("on", "2") all work
///     trunk = [10, 20]             # a list: an array, or the keyval text "10:20"
///
///     [[port]]
///     type = "nat"
///     id = "nat0"
///     hostfwd = ["tcp:127.0.0.1:2222-:22", "udp::5353-:53"]   # repeatable key: an array
///
///     [[capture]]
///     port = "vm0"
///     file = "/tmp/vm0.pcap"
///
/// A [[port]] or [[capture]] entry may also be a keyval string: port = ["tap,id=t0,ifname=t0"].
/// Every error starts with "<path>:<line>:" pointing at the offending key and names the key:
/// "uvswitch.toml:9: port vm0: unknown key 'sever' (did you mean 'server'?)".
/// kFile when the file cannot be read, kSyntax for TOML syntax errors. Reads only that file
/// (and the path checks of the specs in it).
Result<ConfigLayer> load_config_file(const std::string& path);

/// The same for a document already in memory; `name` stands for the path in messages.
Result<ConfigLayer> parse_config_text(std::string_view text, const std::string& name);

}  // namespace uvs::config
