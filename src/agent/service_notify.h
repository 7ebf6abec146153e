// The systemd notification protocol (sd_notify(3)), without libsystemd.
//
// Problem: libsystemd was linked only for sd_notify and sd_watchdog_enabled, and loading it
// (with liblz4, libcap and libgcrypt behind it) cost the idle daemon ~0.4-0.6 MB of resident
// memory on every host. Approach: the protocol is one datagram of "KEY=VALUE" lines sent to
// the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" = abstract namespace), and the watchdog
// period is $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours. Trade-off: no fd passing or
// credentials (the agent uses neither).
#pragma once

#include <cstdint>
#include <string>

namespace noreboot::agent {

// Sends `state` (e.g. "READY=1\nSTATUS=idle") when $NOTIFY_SOCKET is set; false when it is not
// set or the send failed (a service manager that does not listen is not an error).
bool service_notify(const std::string& state);

// The watchdog period in microseconds when systemd expects WATCHDOG=1 pings from this process,
// else 0.
uint64_t service_watchdog_usec();

}  // namespace noreboot::agent
