// Project-owned C bridge to OpenCV 4.6 parts gocv does not bind or does not
// guard: an exception-safe ONNX load check and cv::face's LBPH histograms.
#ifndef GATEGUARD_FACEREC_H
#define GATEGUARD_FACEREC_H
#ifdef __cplusplus
extern "C" {
#endif

// GGFacerec_CheckONNX loads the ONNX model at path and returns NULL, or the
// OpenCV error (free it with free()).
char *GGFacerec_CheckONNX(const char *path);

typedef void *GGLBPH;

// GGLBPH_New makes an LBPH recognizer (radius, neighbours, grid).
GGLBPH GGLBPH_New(int radius, int neighbors, int gridX, int gridY, char **err);
void GGLBPH_Close(GGLBPH l);
// GGLBPH_Histogram computes the spatial LBP histogram of grey (a cv::Mat*
// of CV_8UC1) into a malloc'd array; returns its length, or -1 with *err.
int GGLBPH_Histogram(GGLBPH l, void *grey, float **hist, char **err);

#ifdef __cplusplus
}
#endif
#endif
