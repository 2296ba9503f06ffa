# Install.cmake - `cmake --install BUILD --prefix P` and `cpack -G DEB`: what goes where, the man
# page made from docs/cli.md, and the Debian package's metadata.
# Must not: change how anything is built or tested, or install a test, a benchmark, a static
# library or a header other than hvalloc.h. The layout is what the programs look for:
#   P/bin/heapviz
#   P/lib/libhvalloc.so          cli/cmd_record.cpp: EXE/../lib/libhvalloc.so (never lib64 or a
#                                multiarch dir, so GNUInstallDirs' LIBDIR is not used)
#   P/include/heapviz/hvalloc.h  marks and the live gate, for programs that call the library
#   P/share/heapviz/{lessons,scenarios,examples}   session/data_dir.h: EXE/../share/heapviz
#   P/share/applications/heapviz.desktop, P/share/icons/hicolor/scalable/apps/heapviz.svg
#   P/share/man/man1/heapviz.1   scripts/make_manpage.py docs/cli.md, at build time
#   P/share/doc/heapviz/         README, CHANGELOG and docs/
# Tests: Install.PrefixRecordStatsShot and Install.DebBuildsWithItsDependencies (tests/install).

if(PROJECT_VERSION)
  set(HV_PACKAGE_VERSION ${PROJECT_VERSION})
else()
  set(HV_PACKAGE_VERSION 0.1.0)
endif()

install(TARGETS heapviz RUNTIME DESTINATION bin)
install(TARGETS hvalloc LIBRARY DESTINATION lib)
install(FILES ${PROJECT_SOURCE_DIR}/allocator/include/heapviz/hvalloc.h DESTINATION include/heapviz)

# The data directory mirrors assets/ (lessons/, scenarios/, examples/), so that one lookup serves
# the source tree and the prefix. The screenshots are the README's, not the program's.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/lessons ${PROJECT_SOURCE_DIR}/assets/scenarios
                  ${PROJECT_SOURCE_DIR}/assets/examples DESTINATION share/heapviz)
# Fonts: none bundled; the app loads the system's DejaVu Sans (fonts-dejavu-core) when present.

install(FILES ${PROJECT_SOURCE_DIR}/assets/heapviz.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/assets/heapviz.svg DESTINATION share/icons/hicolor/scalable/apps)

# heapviz(1) from docs/cli.md (python3 only: no pandoc, no help2man).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(HV_MANPAGE ${PROJECT_BINARY_DIR}/man/heapviz.1)
add_custom_command(OUTPUT ${HV_MANPAGE}
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
                   COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/make_manpage.py
                           ${PROJECT_SOURCE_DIR}/docs/cli.md ${HV_MANPAGE} --version ${HV_PACKAGE_VERSION}
                   DEPENDS ${PROJECT_SOURCE_DIR}/docs/cli.md ${PROJECT_SOURCE_DIR}/scripts/make_manpage.py
                   COMMENT "heapviz.1 from docs/cli.md")
add_custom_target(hv_manpage ALL DEPENDS ${HV_MANPAGE})
install(FILES ${HV_MANPAGE} DESTINATION share/man/man1)

# Bash completion, written by heapviz itself from every command's declared options
# (`heapviz completion bash`, cli/options.h), at build time.
set(HV_COMPLETION ${PROJECT_BINARY_DIR}/completion/heapviz)
add_custom_command(OUTPUT ${HV_COMPLETION}
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/completion
                   COMMAND $<TARGET_FILE:heapviz> completion bash > ${HV_COMPLETION}
                   DEPENDS heapviz
                   COMMENT "heapviz completion bash")
add_custom_target(hv_completion ALL DEPENDS ${HV_COMPLETION})
install(FILES ${HV_COMPLETION} DESTINATION share/bash-completion/completions)

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION share/doc/heapviz)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/heapviz/docs)

# The Debian package (cpack -G DEB in the build dir): installs under /usr; its Depends come from
# dpkg-shlibdeps (dpkg-dev) on the installed binaries (libc6, libstdc++6, libzstd1, libdw1,
# libelf1, libglfw3 -> libgl1, libstb0 with the GUI), plus what is loaded without being linked.
# `make install` and cpack install what is built and build nothing first: run them after the
# build (cmake --build BUILD), never as a way to build all the tests too.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME heapviz)
set(CPACK_PACKAGE_VERSION ${HV_PACKAGE_VERSION})
set(CPACK_PACKAGE_VENDOR "heapviz")
set(CPACK_PACKAGE_CONTACT "heapviz maintainers <heapviz@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "glibc malloc heap visualizer: record, replay and step through a heap")
set(CPACK_PACKAGE_DESCRIPTION
    "heapviz runs a program on glibc 2.36's malloc rebuilt as a preload library and records every heap
event with its call stack, or simulates a scenario; a desktop app and a command line show the
chunks, bins and events, step by step, with lessons on how allocators work.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # heapviz_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(HV_GUI)
  # Loaded at run time, not linked: Mesa's GL drivers (llvmpipe without a GPU), the font.
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgl1-mesa-dri, fonts-dejavu-core")
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xvfb, xauth")
endif()
include(CPack)
