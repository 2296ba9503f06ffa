// hv_gui_smoke: proves the GUI toolchain works end to end (GLFW window with an OpenGL 3.3 core
// context, GL loaded through the glad loader generated at build time, Dear ImGui with its GLFW
// and OpenGL3 backends). Renders a few frames with one ImGui window over a known clear colour,
// reads pixels back and checks them.
//
// Exit codes: 0 OK, 1 a check or a GL/window step failed, 2 no display to open a window on.
// Every outcome is reported as exactly one line (OK on stdout, failures on stderr).
#include <glad/gl.h> // must come before any other GL header
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"

namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;
constexpr int kFrames = 3;

struct Rgb {
  int r, g, b;
};

// Multiples of 1/255 so the 8-bit framebuffer holds them exactly.
constexpr Rgb kClear{51, 102, 153};
constexpr Rgb kWindowBg{204, 51, 102};

// The ImGui window, in window coordinates (origin top-left).
constexpr float kPanelX = 20, kPanelY = 20, kPanelW = 160, kPanelH = 120;

std::string g_glfw_error; // last GLFW error, reported in our single line instead of printed

void OnGlfwError(int code, const char* description) {
  g_glfw_error = std::to_string(code) + ": " + (description ? description : "?");
}

float Unit(int c) {
  return static_cast<float>(c) / 255.0f;
}

bool Near(const Rgb& a, const Rgb& b) {
  return std::abs(a.r - b.r) <= 1 && std::abs(a.g - b.g) <= 1 && std::abs(a.b - b.b) <= 1;
}

// Reads one pixel; x, y in window coordinates with the origin at the top left.
Rgb ReadPixel(int fb_height, int x, int y) {
  unsigned char px[4] = {0, 0, 0, 0};
  glReadPixels(x, fb_height - 1 - y, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
  return Rgb{px[0], px[1], px[2]};
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "hv_gui_smoke: FAIL: %s\n", what.c_str());
  return 1;
}

std::string Str(const Rgb& c) {
  return "(" + std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) + ")";
}

int Run() {
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_RESIZABLE, GLFW_FALSE);
  glfwWindowHint(GLFW_DOUBLEBUFFER, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(kWidth, kHeight, "hv_gui_smoke", nullptr, nullptr);
  if (!window) return Fail("cannot create an OpenGL 3.3 core window (glfw " + g_glfw_error + ")");
  glfwMakeContextCurrent(window);
  glfwSwapInterval(0);

  const int gl_version = gladLoadGL(glfwGetProcAddress);
  if (gl_version == 0) {
    glfwDestroyWindow(window);
    return Fail("gladLoadGL failed");
  }
  if (GLAD_VERSION_MAJOR(gl_version) * 10 + GLAD_VERSION_MINOR(gl_version) < 33) {
    glfwDestroyWindow(window);
    return Fail("context is OpenGL " + std::to_string(GLAD_VERSION_MAJOR(gl_version)) + "." +
                std::to_string(GLAD_VERSION_MINOR(gl_version)) + ", need 3.3");
  }

  IMGUI_CHECKVERSION(); // header/library layout agreement with Debian's libimgui.a
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr; // never write imgui.ini into the working directory
  io.LogFilename = nullptr;
  ImGui::StyleColorsDark();
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 0.0f;
  style.WindowBorderSize = 0.0f;
  style.Colors[ImGuiCol_WindowBg] = ImVec4(Unit(kWindowBg.r), Unit(kWindowBg.g), Unit(kWindowBg.b), 1.0f);

  if (!ImGui_ImplGlfw_InitForOpenGL(window, true) || !ImGui_ImplOpenGL3_Init("#version 330 core")) {
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    return Fail("ImGui backend initialisation failed");
  }

  int fb_w = 0, fb_h = 0;
  Rgb outside{}, inside{};
  GLenum gl_error = GL_NO_ERROR;
  for (int frame = 0; frame < kFrames; ++frame) {
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(kPanelX, kPanelY));
    ImGui::SetNextWindowSize(ImVec2(kPanelW, kPanelH));
    ImGui::Begin("heapviz smoke", nullptr,
                 ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoCollapse);
    ImGui::Text("frame %d", frame);
    ImGui::End();
    ImGui::Render();

    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(Unit(kClear.r), Unit(kClear.g), Unit(kClear.b), 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    if (frame == kFrames - 1) {
      // Read the back buffer of the last frame before it is swapped away.
      glFinish();
      glReadBuffer(GL_BACK);
      glPixelStorei(GL_PACK_ALIGNMENT, 1);
      outside = ReadPixel(fb_h, fb_w - 10, fb_h - 10); // bottom right: only the clear colour
      inside = ReadPixel(fb_h, static_cast<int>(kPanelX + kPanelW / 2),
                         static_cast<int>(kPanelY + kPanelH - 20)); // panel body, below the text
      gl_error = glGetError();
    }
    glfwSwapBuffers(window);
  }

  const std::string renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  const std::string version = reinterpret_cast<const char*>(glGetString(GL_VERSION));

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);

  if (fb_w < kPanelX + kPanelW || fb_h < kPanelY + kPanelH)
    return Fail("framebuffer is only " + std::to_string(fb_w) + "x" + std::to_string(fb_h));
  if (gl_error != GL_NO_ERROR) return Fail("GL error " + std::to_string(gl_error));
  if (!Near(outside, kClear))
    return Fail("background pixel " + Str(outside) + " != clear colour " + Str(kClear));
  if (!Near(inside, kWindowBg))
    return Fail("ImGui window pixel " + Str(inside) + " != window background " + Str(kWindowBg));

  std::printf("hv_gui_smoke: OK %d frames %dx%d, clear %s, imgui window %s, GL %s (%s)\n", kFrames, fb_w,
              fb_h, Str(outside).c_str(), Str(inside).c_str(), version.c_str(), renderer.c_str());
  return 0;
}

} // namespace

int main() {
  glfwSetErrorCallback(OnGlfwError);
  if (!glfwInit()) {
    std::fprintf(stderr, "hv_gui_smoke: no display: set DISPLAY or run under xvfb-run (glfw error %s)\n",
                 g_glfw_error.empty() ? "unknown" : g_glfw_error.c_str());
    return 2;
  }
  const int rc = Run();
  glfwTerminate();
  return rc;
}
