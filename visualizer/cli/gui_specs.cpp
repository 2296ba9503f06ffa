// gui_specs.cpp - the grammar of the commands that open the app (view, shot), declared here so a
// heapviz built without the GUI (-DHV_GUI=OFF) still answers their --help and completes them.
//
// Owns: kViewSpec and kShotSpec (options.h). Must not: include app/ or parse anything.
#include "cli/commands.h"

namespace hv::cli {

const CommandSpec kViewSpec = {
    .name = "view",
    .brief = "open the app on a trace or a scenario (also: heapviz FILE)",
    .synopsis = "[--policies A,B,...] [--predict] [--playground] [FILE]",
    .summary = "open the desktop app on a trace or a scenario (.hvs or .rep, simulated first); or just:\n"
               "heapviz FILE",
    .options = {{"--policies", nullptr, "A,B,...", "a scenario on several policies side by side"},
                {"--predict", nullptr, nullptr, "predict-then-reveal: guess where each block lands"},
                {"--playground", nullptr, nullptr, "edit a scenario and watch the heap as you type"},
                {"--ui-scale", nullptr, "S",
                 "the text's size, 0.75 to 3 (default: View > UI scale's setting, 1 at first)",
                 "HEAPVIZ_UI_SCALE"}},
    .examples = "heapviz view prog.hvt\n"
                "heapviz assets/scenarios/demo.hvs\n"
                "heapviz view --policies glibc,first-fit,buddy my.hvs\n"
                "heapviz view --playground",
    .min_args = 0,
    .max_args = 1,
    .see = "docs/app.md",
};

const CommandSpec kShotSpec = {
    .name = "shot",
    .brief = "render the app at a position to a PNG",
    .synopsis = "[options] FILE | --lesson NAME [--step K]",
    .summary = "render the app at a position of a trace or scenario (or at a lesson's step) to a PNG;\n"
               "works under xvfb-run",
    .options = {{"--output", "-o", "OUT.png", "the PNG (default: FILE.at-N.png, N the position's events)"},
                at_option("the heap after the first N events, at the end (default), at the peak of\n"
                          "live bytes, or right after the first mark LABEL"),
                {"--select", nullptr, "ADDR", "select the chunk at ADDR (Chunk window, its history)"},
                {"--size", nullptr, "WxH", "window size (default 1600x900)"},
                {"--mode", nullptr, "exact|min-width|one-cell", "the map's scale"},
                {"--cells", nullptr, nullptr, "the same as --mode one-cell"},
                {"--shorten-top", nullptr, nullptr, "draw the top chunk and gaps at most one row long"},
                {"--region", nullptr, "N", "show region N of the map (0 = the first)"},
                {"--range", nullptr, "ADDR-ADDR", "show the chunks that overlap [LO, HI)"},
                {"--color", "--colour", "state|site", "color chunks by state or by allocation site"},
                {"--by-site", nullptr, nullptr, "the same as --color site"},
                {"--function", nullptr, "NAME", "highlight the blocks allocated under this function"},
                {"--diff", nullptr, "A:B",
                 "mark two positions (N, end, peak or mark:LABEL, as --at) and show their diff"},
                {"--tab", nullptr, "sites|leaks|frag|diff", "open this tab of the Sites window"},
                {"--row", nullptr, "K", "with --tab sites or frag, select row K (1 = the first)"},
                {"--tree", nullptr, "bottom-up|top-down", "the Sites tree's direction"},
                {"--error", nullptr, "K", "select heap error K (1 = the first) in the Errors window"},
                {"--breakpoints", nullptr, nullptr, "show the Breakpoints window"},
                {"--policies", nullptr, "A,B,...", "a scenario on several policies side by side"},
                {"--predict", nullptr, "K", "predict mode at allocation K (1 = the first)"},
                {"--answer", nullptr, "ADDR|grows|mapping|null", "with --predict: the guess that reveals it"},
                {"--lesson", nullptr, "NAME", "a lesson (name, number or file) instead of FILE"},
                {"--step", nullptr, "K", "with --lesson: the step (1 = the first)"},
                {"--geometry", nullptr, "OUT.txt", "also write where each window and chunk was drawn"},
                {"--ui-scale", nullptr, "S", "the text's size, 0.75 to 3 (default 1)"}},
    .examples = "heapviz shot prog.hvt                    # prog.hvt.at-N.png (N: its last event)\n"
                "heapviz shot --at peak -o peak.png prog.hvt\n"
                "heapviz shot --at mark:loaded --select 0x5555555596b0 prog.hvt\n"
                "xvfb-run -a heapviz shot --lesson tcache --step 3 -o tcache.png",
    .min_args = 0,
    .max_args = 1,
    .see = "docs/app.md, docs/cli.md \"heapviz shot\"",
};

} // namespace hv::cli
