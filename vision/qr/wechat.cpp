#include "wechat.h"

#include <cstdlib>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/wechat_qrcode.hpp>

static char *dupError(const char *msg) {
	size_t n = strlen(msg);
	char *s = (char *)malloc(n + 1);
	if (s) memcpy(s, msg, n + 1);
	return s;
}

GGWeChat GGWeChat_New(char **err) {
	try {
		return new cv::wechat_qrcode::WeChatQRCode("", "", "", "");
	} catch (const std::exception &e) {
		*err = dupError(e.what());
		return NULL;
	}
}

void GGWeChat_Close(GGWeChat d) {
	delete (cv::wechat_qrcode::WeChatQRCode *)d;
}

int GGWeChat_Detect(GGWeChat d, void *img, GGCode **codes, char **err) {
	*codes = NULL;
	try {
		cv::Mat *m = (cv::Mat *)img;
		std::vector<cv::Mat> points;
		std::vector<std::string> res =
			((cv::wechat_qrcode::WeChatQRCode *)d)->detectAndDecode(*m, points);
		int n = (int)res.size();
		if (n == 0) return 0;
		GGCode *out = (GGCode *)calloc(n, sizeof(GGCode));
		if (!out) {
			*err = dupError("out of memory");
			return -1;
		}
		for (int i = 0; i < n; i++) {
			out[i].len = (int)res[i].size();
			out[i].data = (char *)malloc(res[i].size() + 1);
			if (out[i].data) memcpy(out[i].data, res[i].data(), res[i].size());
			if (i < (int)points.size() && points[i].total() >= 4) {
				cv::Mat p;
				points[i].convertTo(p, CV_32F);
				p = p.reshape(1, 4);
				for (int k = 0; k < 4; k++) {
					out[i].pts[2 * k] = p.at<float>(k, 0);
					out[i].pts[2 * k + 1] = p.at<float>(k, 1);
				}
			}
		}
		*codes = out;
		return n;
	} catch (const std::exception &e) {
		*err = dupError(e.what());
		return -1;
	}
}

void GGWeChat_Free(GGCode *codes, int n) {
	if (!codes) return;
	for (int i = 0; i < n; i++) free(codes[i].data);
	free(codes);
}
