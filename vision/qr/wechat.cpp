#include "wechat.h"

#include <cstdlib>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <algorithm>
#include <cmath>
#include <opencv2/wechat_qrcode.hpp>

static char *dupBytes(const char *p, size_t n) {
	char *s = (char *)malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

static char *dupError(const char *msg) { return dupBytes(msg, strlen(msg)); }

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

void GGWeChat_Free(GGCode *codes, int n) {
	if (!codes) return;
	for (int i = 0; i < n; i++) {
		free(codes[i].data);
		free(codes[i].text);
	}
	free(codes);
}

int GGQR_Locate(void *grey, float **quads, char **err) {
	*quads = NULL;
	try {
		cv::Mat *m = (cv::Mat *)grey;
		cv::QRCodeDetector det;
		std::vector<cv::Point2f> pts;
		if (!det.detectMulti(*m, pts) || pts.size() < 4) return 0;
		int n = (int)(pts.size() / 4);
		float *out = (float *)malloc(sizeof(float) * 8 * n);
		if (!out) {
			*err = dupError("out of memory");
			return -1;
		}
		for (int i = 0; i < 4 * n; i++) {
			out[2 * i] = pts[i].x;
			out[2 * i + 1] = pts[i].y;
		}
		*quads = out;
		return n;
	} catch (const std::exception &e) {
		*err = dupError(e.what());
		return -1;
	}
}

static float edge(const cv::Point2f &a, const cv::Point2f &b) {
	return std::hypot(a.x - b.x, a.y - b.y);
}

// kMinSide is the side of the smallest crop wechat_qrcode reads without
// enlarging it 2x first (its getScaleList).
static const float kMinSide = 320;

float GGWeChat_CodeSide(float side) {
	// The crop (the code and a margin of a sixth of it each side) at least
	// kMinSide: wechat_qrcode reads a crop under 320 pixels a side at 1x, 2x
	// and 0.5x, the 2x pass costing four times the pixels each time it
	// fails (~60 ms on a code it cannot read); rectified straight to 320 it
	// reads at 1x and 0.5x only.
	return std::min(std::max(side, kMinSide * 3 / 4), 800.f);
}

int GGWeChat_DecodeQuads(GGWeChat d, void *grey, const float *quads, int nq, GGCode **codes, char **err) {
	*codes = NULL;
	if (nq <= 0) return 0;
	try {
		cv::Mat *m = (cv::Mat *)grey;
		cv::wechat_qrcode::WeChatQRCode *w = (cv::wechat_qrcode::WeChatQRCode *)d;
		GGCode *out = (GGCode *)calloc(nq, sizeof(GGCode));
		if (!out) {
			*err = dupError("out of memory");
			return -1;
		}
		int n = 0;
		for (int q = 0; q < nq; q++) {
			std::vector<cv::Point2f> src(4);
			for (int k = 0; k < 4; k++) src[k] = cv::Point2f(quads[8 * q + 2 * k], quads[8 * q + 2 * k + 1]);
			float side = std::max({edge(src[0], src[1]), edge(src[1], src[2]), edge(src[2], src[3]), edge(src[3], src[0])});
			float s = GGWeChat_CodeSide(side);
			float mg = s / 6;
			std::vector<cv::Point2f> dst = {{mg, mg}, {mg + s, mg}, {mg + s, mg + s}, {mg, mg + s}};
			cv::Mat h = cv::getPerspectiveTransform(src, dst);
			cv::Mat crop;
			int sz = (int)std::ceil(s + 2 * mg);
			cv::warpPerspective(*m, crop, h, cv::Size(sz, sz), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(255));
			std::vector<cv::Mat> pts;
			std::vector<std::string> res = w->detectAndDecode(crop, pts);
			if (res.empty()) continue;
			out[n].data = dupBytes(res[0].data(), res[0].size());
			out[n].len = out[n].data ? (int)res[0].size() : 0;
			for (int k = 0; k < 8; k++) out[n].pts[k] = quads[8 * q + k];
			n++;
		}
		if (n == 0) {
			free(out);
			return 0;
		}
		*codes = out;
		return n;
	} catch (const std::exception &e) {
		*err = dupError(e.what());
		return -1;
	}
}
