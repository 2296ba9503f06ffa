# GUI toolchain: everything the visualizer's GUI links against, all from Debian packages
# (installed by scripts/bootstrap); nothing is fetched at configure or build time.
#
#   hv_glad   static lib: OpenGL 3.3 core loader, generated at build time by glad 2 (python3-glad)
#             from the gl.xml bundled in that package (--reproducible: never fetches the spec).
#             Include <glad/gl.h> before any other GL header and call gladLoadGL(glfwGetProcAddress).
#   hv_imgui  static lib: Dear ImGui 1.86 (libimgui-dev's libimgui.a + libstb) with the GLFW and
#             OpenGL3 backends compiled from the sources Debian ships as examples; links glfw and GL.
#             Include "imgui.h", "imgui_impl_glfw.h", "imgui_impl_opengl3.h".
#
# Debian's libimgui.a is position independent (-fPIC: globals such as GImGui are reached through
# the GOT), so it links into executables and shared libraries alike. It needs libstb (Debian
# strips the bundled stb_truetype/stb_rect_pack), which pkg-config's `imgui` brings in.
include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)

set(_hv_gui_missing "run scripts/bootstrap to install the GUI build dependencies")

# ---------------------------------------------------------------------------------------------
# hv_glad
# ---------------------------------------------------------------------------------------------
# The system python (/usr/bin/python3) has the glad module; a `python3` earlier on PATH (pyenv)
# may not, so run /usr/bin/glad (shebang /usr/bin/python3) through a scrubbed environment.
find_program(HV_GLAD_EXECUTABLE NAMES glad PATHS /usr/bin NO_DEFAULT_PATH
             DOC "glad 2 generator from Debian's python3-glad")
find_file(HV_GLAD_GL_XML NAMES gl.xml PATHS /usr/lib/python3/dist-packages/glad/files NO_DEFAULT_PATH
          DOC "OpenGL registry bundled with python3-glad")
if(NOT HV_GLAD_EXECUTABLE OR NOT HV_GLAD_GL_XML)
  message(FATAL_ERROR "glad generator or its bundled gl.xml not found (python3-glad): ${_hv_gui_missing}")
endif()

set(HV_GLAD_API "gl:core=3.3" CACHE STRING "glad --api for hv_glad")
set(HV_GLAD_EXTENSIONS "GL_KHR_debug" CACHE STRING "glad --extensions for hv_glad (comma separated)")
set(_hv_glad_dir ${CMAKE_BINARY_DIR}/generated/glad)
set(_hv_glad_outputs
    ${_hv_glad_dir}/src/gl.c
    ${_hv_glad_dir}/include/glad/gl.h
    ${_hv_glad_dir}/include/KHR/khrplatform.h)

add_custom_command(
  OUTPUT ${_hv_glad_outputs}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_hv_glad_dir}
  COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH --unset=PYTHONHOME PYTHONDONTWRITEBYTECODE=1
          ${HV_GLAD_EXECUTABLE} --api ${HV_GLAD_API} --extensions=${HV_GLAD_EXTENSIONS}
          --out-path ${_hv_glad_dir} --reproducible --quiet c
  DEPENDS ${HV_GLAD_EXECUTABLE} ${HV_GLAD_GL_XML} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Generating OpenGL ${HV_GLAD_API} loader with glad"
  VERBATIM)

add_library(hv_glad STATIC ${_hv_glad_outputs})
target_include_directories(hv_glad SYSTEM PUBLIC ${_hv_glad_dir}/include)
# Generated code: not ours to warn about.
target_compile_options(hv_glad PRIVATE -w)

# ---------------------------------------------------------------------------------------------
# hv_imgui
# ---------------------------------------------------------------------------------------------
pkg_check_modules(HV_IMGUI_PC IMPORTED_TARGET GLOBAL imgui>=1.86)
pkg_check_modules(HV_GLFW_PC IMPORTED_TARGET GLOBAL glfw3>=3.3)
pkg_check_modules(HV_GL_PC IMPORTED_TARGET GLOBAL gl)
if(NOT HV_IMGUI_PC_FOUND OR NOT HV_GLFW_PC_FOUND OR NOT HV_GL_PC_FOUND)
  message(FATAL_ERROR "pkg-config modules imgui/glfw3/gl missing: ${_hv_gui_missing}")
endif()

set(HV_IMGUI_BACKEND_SRC_DIR /usr/share/doc/libimgui-dev/examples/backends
    CACHE PATH "Dear ImGui backend sources shipped by libimgui-dev")
find_path(HV_IMGUI_BACKEND_INCLUDE_DIR NAMES imgui_impl_glfw.h imgui_impl_opengl3.h
          PATHS ${HV_IMGUI_PC_INCLUDE_DIRS} PATH_SUFFIXES backends NO_DEFAULT_PATH)
set(_hv_imgui_backend_sources
    ${HV_IMGUI_BACKEND_SRC_DIR}/imgui_impl_glfw.cpp
    ${HV_IMGUI_BACKEND_SRC_DIR}/imgui_impl_opengl3.cpp)
foreach(_src IN LISTS _hv_imgui_backend_sources)
  if(NOT EXISTS ${_src})
    message(FATAL_ERROR "Dear ImGui backend source ${_src} not found (libimgui-dev): ${_hv_gui_missing}")
  endif()
endforeach()
if(NOT HV_IMGUI_BACKEND_INCLUDE_DIR)
  message(FATAL_ERROR "Dear ImGui backend headers not found (libimgui-dev): ${_hv_gui_missing}")
endif()

# The backends are compiled as shipped. imgui_impl_opengl3.cpp uses its own bundled GL loader
# (imgui_impl_opengl3_loader.h), which coexists with glad: different symbol names, private to
# that translation unit. Our backend objects come first on the link line, so the copies of the
# same backends that Debian also put into libimgui.a are never pulled in.
add_library(hv_imgui STATIC ${_hv_imgui_backend_sources})
target_include_directories(hv_imgui SYSTEM PUBLIC ${HV_IMGUI_BACKEND_INCLUDE_DIR})
target_link_libraries(hv_imgui PUBLIC PkgConfig::HV_IMGUI_PC PkgConfig::HV_GLFW_PC PkgConfig::HV_GL_PC
                                      ${CMAKE_DL_LIBS})
# Third-party sources (they are clean under -Wall -Wextra with GCC 12 and Clang 14 today):
# warnings off so they never break the build, whatever flags get added later.
target_compile_options(hv_imgui PRIVATE -w)
