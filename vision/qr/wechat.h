// Project-owned C bridge to OpenCV's wechat_qrcode module, which gocv does not bind.
#ifndef GATEGUARD_WECHAT_H
#define GATEGUARD_WECHAT_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef void *GGWeChat;

// One decoded code: its bytes (not NUL-terminated; may hold NULs) and the
// four corners, x then y, clockwise from top left.
typedef struct {
	char *data;
	int len;
	float pts[8];
} GGCode;

// GGWeChat_New builds a detector with no CNN models; NULL on failure, with
// the OpenCV error message in *err (free it with free()).
GGWeChat GGWeChat_New(char **err);
void GGWeChat_Close(GGWeChat d);
// GGWeChat_Detect decodes every code in img (a cv::Mat*, BGR or grey) into a
// malloc'd array stored in *codes; it returns their number, or -1 with *err set.
int GGWeChat_Detect(GGWeChat d, void *img, GGCode **codes, char **err);
void GGWeChat_Free(GGCode *codes, int n);

#ifdef __cplusplus
}
#endif
#endif
