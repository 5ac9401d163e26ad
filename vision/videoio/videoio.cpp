// See videoio.h. cv::VideoCapture is used through its header's class layout
// and virtual functions only: the one symbol taken from libopencv_videoio is
// the default constructor, found with dlsym, so the binary has no link-time
// reference to the library (or to the ~220 libraries it needs on Debian:
// FFmpeg, GStreamer, and through imgcodecs GDAL, poppler, …).
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <mutex>
#include <new>
#include <string>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include "videoio.h"

namespace {

typedef void (*ctor_fn)(void *);

std::once_flag load_once;
ctor_fn ctor = nullptr;
const char *load_error = nullptr;

// Sonames tried in order: Debian's (4.6.0 → .406), then the development
// symlink.
const char *sonames[] = {
    "libopencv_videoio.so." CVAUX_STR(CV_VERSION_MAJOR) "0" CVAUX_STR(CV_VERSION_MINOR),
    "libopencv_videoio.so." CV_VERSION,
    "libopencv_videoio.so",
};

void load() {
  void *h = nullptr;
  for (const char *name : sonames) {
    h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (h != nullptr) break;
  }
  if (h == nullptr) {
    load_error = "libopencv_videoio not found (Debian: apt-get install libopencv-videoio406)";
    return;
  }
  // cv::VideoCapture::VideoCapture(), the complete-object constructor.
  ctor = reinterpret_cast<ctor_fn>(dlsym(h, "_ZN2cv12VideoCaptureC1Ev"));
  if (ctor == nullptr) load_error = "libopencv_videoio has no cv::VideoCapture::VideoCapture()";
}

void set_error(char **err, const char *msg) {
  if (err != nullptr) *err = strdup(msg);
}

cv::VideoCapture *vc(GGCapture c) { return static_cast<cv::VideoCapture *>(c); }

}  // namespace

extern "C" {

const char *GGVideoio_Load(void) {
  std::call_once(load_once, load);
  return load_error;
}

int GGVideoio_Loaded(void) { return ctor != nullptr; }

GGCapture GGCapture_New(char **err) {
  if (ctor == nullptr) return nullptr;
  void *mem = ::operator new(sizeof(cv::VideoCapture), std::nothrow);
  if (mem == nullptr) return nullptr;
  try {
    ctor(mem);
  } catch (const std::exception &e) {
    ::operator delete(mem);
    set_error(err, e.what());
    return nullptr;
  }
  return mem;
}

// Every member below is virtual in OpenCV 4.6, so each call goes through
// the object's vtable, which the library's constructor filled in.

int GGCapture_OpenFile(GGCapture c, const char *name, int api, char **err) {
  try {
    return vc(c)->open(cv::String(name), api);
  } catch (const std::exception &e) {
    set_error(err, e.what());
    return 0;
  }
}

int GGCapture_OpenDevice(GGCapture c, int index, int api, char **err) {
  try {
    return vc(c)->open(index, api);
  } catch (const std::exception &e) {
    set_error(err, e.what());
    return 0;
  }
}

int GGCapture_IsOpened(GGCapture c) { return vc(c)->isOpened(); }

int GGCapture_Set(GGCapture c, int prop, double value) {
  try {
    return vc(c)->set(prop, value);
  } catch (const std::exception &e) {
    set_error(nullptr, e.what());
    return 0;
  }
}

double GGCapture_Get(GGCapture c, int prop) {
  try {
    return vc(c)->get(prop);
  } catch (const std::exception &e) {
    set_error(nullptr, e.what());
    return 0;
  }
}

int GGCapture_Read(GGCapture c, void *mat) {
  try {
    return vc(c)->read(*static_cast<cv::Mat *>(mat));
  } catch (const std::exception &e) {
    set_error(nullptr, e.what());
    return 0;
  }
}

void GGCapture_Close(GGCapture c) {
  if (c == nullptr) return;
  try {
    vc(c)->release();
  } catch (const std::exception &) {
  }
  vc(c)->~VideoCapture();  // virtual: the library's destructor
  ::operator delete(c);
}

}  // extern "C"
