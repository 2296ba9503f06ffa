// palette.h - the colour of every Paint of the chunk map (and the curves), in one place.
//
// Owns: the RGB values the legend explains and the pixel tests check (they read them from here
// through `heapviz shot --geometry`, never from a copy). Must not: depend on ImGui (colours are
// plain 0xRRGGBB; views convert them).
#pragma once

#include "views/chunk_layout.h"

#include <cstdint>

namespace hv::views {

// Chosen to stay apart for the common colour-vision deficiencies: bins are blues/cyans/purples,
// in-use is orange, top is green, errors are red.
inline constexpr uint32_t kPaintRgb[size_t(Paint::Count)] = {
    0xE8873A, // InUse: orange
    0x8A4B1C, // Header: dark brown
    0xF5D49A, // Slack: pale orange
    0x4FC3F7, // Tcache: light blue
    0x26A69A, // Fast: teal
    0xB39DDB, // Unsorted: lavender
    0x5C6BC0, // Small: indigo
    0x8E24AA, // Large: purple
    0x66BB6A, // Top: green
    0x9E9E9E, // Fence: grey
    0xD4A017, // Mmapped: gold
    0xF48FB1, // InHand: pink (only ever seen in the middle of a call)
    0x3A3A3A, // Gap: dark grey
    0x78909C, // Internal: blue grey (the tcache_perthread_struct)
    0xA1887F, // Before: brown grey (in use, but from before the trace: nothing known of its request)
};
// 0xRRGGBB to ImGui's packed colour (IM_COL32 layout: A, B, G, R from the top byte down).
constexpr uint32_t im_color(uint32_t rgb, unsigned alpha = 255) {
  return (alpha << 24) | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
}

inline constexpr uint32_t kHighlightRgb = 0xFFEB3B; // chunks the current event changed
inline constexpr uint32_t kSelectRgb = 0xFFFFFF;    // the selected chunk
// A fragmentation blame row: the free chunks a site keeps apart, and that site's chunks.
inline constexpr uint32_t kPinnedRgb = 0x4CAF50;
inline constexpr uint32_t kPinningRgb = 0xEF5350;
inline constexpr uint32_t kCurveHeapRgb = 0x66BB6A;
inline constexpr uint32_t kCurveLiveRgb = 0xE8873A;
inline constexpr uint32_t kCurveFragRgb = 0xB39DDB;
// Footprint minus released pages (the resident estimate), drawn only for traces that released any.
inline constexpr uint32_t kCurveResidentRgb = 0xDCE775;
// The hatching over pages handed back to the system (madvise): near white, the colour of nothing,
// apart from the black of labels.
inline constexpr uint32_t kReleasedRgb = 0xF5F5F5;
inline constexpr uint32_t kSiteCurveRgb = 0x4DD0E1; // the site selected in Sites
inline constexpr uint32_t kMarkRgb = 0xFFEB3B;
inline constexpr uint32_t kErrorRgb = 0xEF5350;
inline constexpr uint32_t kLessonRgb = 0x4FE3FF; // the blocks a lesson step names (outline and tag)

} // namespace hv::views
