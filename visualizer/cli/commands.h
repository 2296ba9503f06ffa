// commands.h - one function per heapviz subcommand; each returns the process exit status.
#pragma once

namespace hv::cli {
int cmd_sim(int argc, char** argv);
}
