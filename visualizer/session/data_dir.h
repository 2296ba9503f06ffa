// data_dir.h - where heapviz's data files are: the lessons, the demo and the other scenarios,
// the examples (assets/ in the source tree, PREFIX/share/heapviz once installed).
//
// Owns: the one lookup of that directory, for the CLI and the app alike (lessons_dir() and
// demo_scenario() build on it). Must not: read the files it finds, or know about libhvalloc.so
// (cli/cmd_record.cpp finds that one, beside the executable).
#pragma once

#include <string>

namespace hv::session {

// The data directory, the first that exists of:
//   1. $HEAPVIZ_DATA (when set and not empty, and only it: "" when it is not a directory);
//   2. EXE/../share/heapviz: an installed heapviz (PREFIX/bin/heapviz -> PREFIX/share/heapviz);
//   3. EXE/../../assets: a build tree inside the source tree (ROOT/BUILD/bin/heapviz);
//   4. the source tree this heapviz was built from (ROOT/assets, compiled in).
// It holds lessons/, scenarios/ (demo.hvs) and examples/, as assets/ does. "" when none exists.
std::string data_dir();

// The bundled demo scenario (data_dir()/scenarios/demo.hvs), "" when there is none.
std::string demo_scenario();

} // namespace hv::session
