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

static void zxPos(const ZXing::Position &p, float *out) {
	for (int k = 0; k < 4; k++) {
		out[2 * k] = (float)p[k].x;
		out[2 * k + 1] = (float)p[k].y;
	}
}

static ZXing::Results zxRead(const ZXing::ImageView &view, int flags, bool errors) {
	ZXing::DecodeHints hints;
	hints.setFormats(ZXing::BarcodeFormat::QRCode);
	hints.setTryHarder((flags & GG_ZX_HARDER) != 0);
	hints.setTryRotate((flags & GG_ZX_HARDER) != 0);
	hints.setTryDownscale(true);
	hints.setReturnErrors(errors);
	return ZXing::ReadBarcodes(view, hints);
}

int GGZXing_Read(void *grey, int flags, GGCode **codes, float **cands, int *ncands, char **err) {
	*codes = NULL;
	if (cands) *cands = NULL;
	if (ncands) *ncands = 0;
	try {
		cv::Mat *m = (cv::Mat *)grey;
		if (m->type() != CV_8UC1 || !m->isContinuous()) {
			*err = zxDup("zxing: want a continuous 8-bit grey image", 41);
			return -1;
		}
		ZXing::ImageView view(m->data, m->cols, m->rows, ZXing::ImageFormat::Lum, (int)m->step[0]);
		bool errors = (flags & GG_ZX_CANDIDATES) != 0 && cands && ncands;
		ZXing::Results res = zxRead(view, flags, errors);
		int n = 0, nc = 0;
		for (auto &r : res)
			if (r.isValid()) n++;
			else if (r.format() != ZXing::BarcodeFormat::None) nc++;
		if (nc > 0) {
			// A symbol was sampled but not decoded: report where. zxing-cpp
			// keeps the first result per place (failed or not, within a
			// layer and across its downscaled layers), so a failed read can
			// hide a good one at the same place: when nothing was read, read
			// again without errors.
			*cands = (float *)malloc(sizeof(float) * 8 * nc);
			if (!*cands) {
				*err = zxDup("out of memory", 13);
				return -1;
			}
			int i = 0;
			for (auto &r : res)
				if (!r.isValid() && r.format() != ZXing::BarcodeFormat::None) zxPos(r.position(), *cands + 8 * i++);
			*ncands = nc;
			if (n == 0) {
				res = zxRead(view, flags, false);
				n = 0;
				for (auto &r : res)
					if (r.isValid()) n++;
			}
		}
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
			zxPos(r.position(), out[i].pts);
			i++;
		}
		*codes = out;
		return n;
	} catch (const std::exception &e) {
		*err = zxDup(e.what(), strlen(e.what()));
		return -1;
	}
}

