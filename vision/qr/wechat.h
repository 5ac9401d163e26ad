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
// Flags of GGZXing_Read.
enum {
	GG_ZX_HARDER = 1,     // rotations and the slower (every row) search
	GG_ZX_CANDIDATES = 2, // report symbols located but not decoded
};
// GGZXing_Read decodes every QR code in grey (a cv::Mat* of CV_8UC1) with
// zxing-cpp into a malloc'd array stored in *codes (free it with
// GGWeChat_Free); it returns their number, or -1 with *err set. With
// GG_ZX_CANDIDATES it also stores, in a malloc'd array *cands (free it with
// free()) of 8 floats per quad, where zxing-cpp sampled a symbol it could
// not decode, and their number in *ncands.
int GGZXing_Read(void *grey, int flags, GGCode **codes, float **cands, int *ncands, char **err);
void GGWeChat_Free(GGCode *codes, int n);
// GGWeChat_DecodeQuads rectifies each of the nq quads (8 floats each, as
// GGQR_Locate returns them) of grey into a square crop with a quiet zone and
// decodes it with the detector; the codes found carry their quad's corners.
int GGWeChat_DecodeQuads(GGWeChat d, void *grey, const float *quads, int nq, GGCode **codes, char **err);
// GGWeChat_CodeSide is the side, in pixels, that GGWeChat_DecodeQuads
// rectifies a located code of the given longest edge to (its crop adds a
// sixth of that on each side).
float GGWeChat_CodeSide(float side);

// GGQR_Locate finds QR code quadrilaterals in grey (a cv::Mat* of CV_8UC1)
// with cv::QRCodeDetector (detection works without QUIRC). It stores 8 floats
// per quad (x, y of each corner) in a malloc'd array and returns the number
// of quads, 0 when none, or -1 with *err set. Free *quads with free().
int GGQR_Locate(void *grey, float **quads, char **err);

// GGQR_Finders looks for QR finder patterns (1:1:3:1:1 across and down) in
// grey (a cv::Mat* of CV_8UC1) and stores, for each triple of them placed
// like a code's three finders and each pair of like size at a distance a
// code's finders can be apart, GG_FINDER_FLOATS floats in rois: a region
// x0, y0, x1, y1 that holds the code they belong to, the module size, 1 for a
// triple (0 for a pair), and a triple's three finder centres (x, y; the one
// at the right angle first). Triples come first; at most maxRois regions. It
// returns their number, 0 when the frame holds nothing code-like, or -1 with
// *err set (free it with free()).
#define GG_FINDER_FLOATS 12
int GGQR_Finders(void *grey, float *rois, int maxRois, char **err);

// GGQR_Darkest fills grey (a cv::Mat*, reallocated as CV_8UC1) with the
// darkest channel of each pixel of bgr (a cv::Mat* of CV_8UC3 or CV_8UC4).
// It returns 0, or -1 with *err set (free it with free()).
int GGQR_Darkest(void *bgr, void *grey, char **err);

#ifdef __cplusplus
}
#endif
#endif
