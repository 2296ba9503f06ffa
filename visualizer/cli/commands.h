// commands.h - one function per heapviz subcommand; each returns the process exit status
// (0 ok, 1 a check failed, 2 bad input or usage).
#pragma once

#include <string>

namespace hv::cli {
int cmd_sim(int argc, char** argv);    // cmd_sim.cpp
int cmd_record(int argc, char** argv); // cmd_record.cpp
int cmd_check(int argc, char** argv);  // cmd_check.cpp
int cmd_stats(int argc, char** argv);  // cmd_stats.cpp
int cmd_dump(int argc, char** argv);   // cmd_dump.cpp
int cmd_view(int argc, char** argv);   // cmd_view.cpp (the desktop app)
int cmd_shot(int argc, char** argv);   // cmd_view.cpp (a screenshot of the app)
int cmd_ps(int argc, char** argv);     // cmd_live.cpp (attachable processes)
int cmd_attach(int argc, char** argv); // cmd_live.cpp (follow or capture a live process)
int cmd_run(int argc, char** argv);    // cmd_live.cpp (start a program and attach)
// libhvalloc.so next to this heapviz, or $HEAPVIZ_LIB; "" if not found (cmd_record.cpp).
std::string find_library();
} // namespace hv::cli
