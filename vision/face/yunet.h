// Project-owned C bridge to OpenCV 4.6's cv::FaceDetectorYN, which gocv does
// not bind.
#ifndef GATEGUARD_YUNET_H
#define GATEGUARD_YUNET_H
#ifdef __cplusplus
extern "C" {
#endif

typedef void *GGYuNet;

// GGYuNet_New loads the YuNet ONNX model at path; NULL on failure with the
// OpenCV message in *err (free it with free()).
GGYuNet GGYuNet_New(const char *path, float score, float nms, int topK, char **err);
void GGYuNet_Close(GGYuNet d);
// GGYuNet_Detect finds faces in img (a cv::Mat* of CV_8UC3, BGR). It stores
// 15 floats per face (x, y, w, h, five landmarks x and y: right eye, left
// eye, nose tip, right and left mouth corner, then the score) in a malloc'd
// array and returns the number of faces, or -1 with *err set.
int GGYuNet_Detect(GGYuNet d, void *img, float **faces, char **err);

#ifdef __cplusplus
}
#endif
#endif
