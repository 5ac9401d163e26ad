// Project-owned C bridge to OpenCV's wechat_qrcode module and QR locator, and
// to the zxing-cpp reader, none of which gocv binds.
#ifndef GATEGUARD_WECHAT_H
#define GATEGUARD_WECHAT_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef void *GGWeChat;

// One decoded code: its bytes as read (not NUL-terminated; may hold NULs),
// the decoder's own text conversion when it made one (text, textLen; NULL
// when none), and the four corners, x then y, clockwise from top left.
typedef struct {
	char *data;
	int len;
	char *text;
	int textLen;
	float pts[8];
} GGCode;

// GGWeChat_New builds a detector with no CNN models; NULL on failure, with
// the OpenCV error message in *err (free it with free()).
GGWeChat GGWeChat_New(char **err);
void GGWeChat_Close(GGWeChat d);
// GGZXing_Read decodes every QR code in grey (a cv::Mat* of CV_8UC1) with
// zxing-cpp into a malloc'd array stored in *codes (free it with
// GGWeChat_Free); it returns their number, or -1 with *err set. harder asks
// for rotations and the slower search.
int GGZXing_Read(void *grey, int harder, GGCode **codes, char **err);
void GGWeChat_Free(GGCode *codes, int n);
// GGWeChat_DecodeQuads rectifies each of the nq quads (8 floats each, as
// GGQR_Locate returns them) of grey into a square crop with a quiet zone and
// decodes it with the detector; the codes found carry their quad's corners.
int GGWeChat_DecodeQuads(GGWeChat d, void *grey, const float *quads, int nq, GGCode **codes, char **err);

// GGQR_Locate finds QR code quadrilaterals in grey (a cv::Mat* of CV_8UC1)
// with cv::QRCodeDetector (detection works without QUIRC). It stores 8 floats
// per quad (x, y of each corner) in a malloc'd array and returns the number
// of quads, 0 when none, or -1 with *err set. Free *quads with free().
int GGQR_Locate(void *grey, float **quads, char **err);

#ifdef __cplusplus
}
#endif
#endif
