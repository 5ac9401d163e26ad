// zxing-cpp half of the bridge (see wechat.h).
#include "wechat.h"

#include <cstdlib>
#include <cstring>
#include <opencv2/core.hpp>

#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

static char *zxDup(const char *p, size_t n) {
	char *s = (char *)malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

int GGZXing_Read(void *grey, int harder, GGCode **codes, char **err) {
	*codes = NULL;
	try {
		cv::Mat *m = (cv::Mat *)grey;
		if (m->type() != CV_8UC1 || !m->isContinuous()) {
			*err = zxDup("zxing: want a continuous 8-bit grey image", 41);
			return -1;
		}
		ZXing::ImageView view(m->data, m->cols, m->rows, ZXing::ImageFormat::Lum, (int)m->step[0]);
		ZXing::DecodeHints hints;
		hints.setFormats(ZXing::BarcodeFormat::QRCode);
		hints.setTryHarder(harder != 0);
		hints.setTryRotate(harder != 0);
		hints.setTryDownscale(true);
		ZXing::Results res = ZXing::ReadBarcodes(view, hints);
		int n = 0;
		for (auto &r : res)
			if (r.isValid()) n++;
		if (n == 0) return 0;
		GGCode *out = (GGCode *)calloc(n, sizeof(GGCode));
		if (!out) {
			*err = zxDup("out of memory", 13);
			return -1;
		}
		int i = 0;
		for (auto &r : res) {
			if (!r.isValid()) continue;
			const ZXing::ByteArray &b = r.bytes();
			out[i].data = zxDup((const char *)b.data(), b.size());
			out[i].len = out[i].data ? (int)b.size() : 0;
			std::string t = r.text();
			out[i].text = zxDup(t.data(), t.size());
			out[i].textLen = out[i].text ? (int)t.size() : 0;
			const ZXing::Position &p = r.position();
			for (int k = 0; k < 4; k++) {
				out[i].pts[2 * k] = (float)p[k].x;
				out[i].pts[2 * k + 1] = (float)p[k].y;
			}
			i++;
		}
		*codes = out;
		return n;
	} catch (const std::exception &e) {
		*err = zxDup(e.what(), strlen(e.what()));
		return -1;
	}
}
