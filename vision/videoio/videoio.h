// Project-owned C bridge to OpenCV 4.6's cv::VideoCapture, with
// libopencv_videoio loaded by dlopen on first use (see videoio.go).
#ifndef GATEGUARD_VIDEOIO_H
#define GATEGUARD_VIDEOIO_H
#ifdef __cplusplus
extern "C" {
#endif

typedef void *GGCapture;

// GGVideoio_Load loads libopencv_videoio once; it returns NULL, or why it
// could not (a static string).
const char *GGVideoio_Load(void);
// GGVideoio_Loaded reports whether GGVideoio_Load succeeded.
int GGVideoio_Loaded(void);
// GGCapture_New makes a closed capture; GGVideoio_Load must have succeeded.
// Functions taking err set it to an OpenCV exception's message when they
// fail by one (free it with free()).
GGCapture GGCapture_New(char **err);
// GGCapture_OpenFile opens a file, URL or image-sequence pattern with the
// given API preference; GGCapture_OpenDevice opens a device index.
int GGCapture_OpenFile(GGCapture c, const char *name, int api, char **err);
int GGCapture_OpenDevice(GGCapture c, int index, int api, char **err);
int GGCapture_IsOpened(GGCapture c);
int GGCapture_Set(GGCapture c, int prop, double value);
double GGCapture_Get(GGCapture c, int prop);
// GGCapture_Read reads the next frame into mat (a cv::Mat*).
int GGCapture_Read(GGCapture c, void *mat);
// GGCapture_Close releases and frees the capture.
void GGCapture_Close(GGCapture c);

#ifdef __cplusplus
}
#endif
#endif
