// event_text.h - one event as text, the line format of `heapviz dump` (docs/cli.md).
//
// Owns: event names and field rendering (addresses in hex, sizes in decimal).
// Must not: depend on the model.
#pragma once

#include "trace/event_decoder.h"

#include <string>

namespace hv::trace {

// "malloc size=24 -> 0x55555555a2a0" (the event name and its fields).
std::string event_fields_text(const Event& e);
// "#1234 t=+1.234567ms tid=4242 arena=0 malloc size=24 -> 0x55555555a2a0"; time relative to t0.
std::string event_line(const Event& e, uint64_t t0_ns);
// "malloc", or "event 0x77" for an unknown type.
std::string event_type_name(uint8_t type);

} // namespace hv::trace
