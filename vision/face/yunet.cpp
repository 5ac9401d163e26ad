#include "yunet.h"

#include <cstdlib>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

static char *ynError(const char *msg) {
	size_t n = strlen(msg);
	char *s = (char *)malloc(n + 1);
	if (s) memcpy(s, msg, n + 1);
	return s;
}

struct ynDetector {
	cv::Ptr<cv::FaceDetectorYN> det;
	cv::Size size;
};

GGYuNet GGYuNet_New(const char *path, float score, float nms, int topK, char **err) {
	try {
		cv::Ptr<cv::FaceDetectorYN> det = cv::FaceDetectorYN::create(path, "", cv::Size(320, 320), score, nms, topK);
		if (det.empty()) {
			*err = ynError("FaceDetectorYN::create returned nothing");
			return NULL;
		}
		ynDetector *d = new ynDetector;
		d->det = det;
		d->size = cv::Size(320, 320);
		return d;
	} catch (const std::exception &e) {
		*err = ynError(e.what());
		return NULL;
	}
}

void GGYuNet_Close(GGYuNet d) { delete (ynDetector *)d; }

int GGYuNet_Detect(GGYuNet dv, void *img, float **faces, char **err) {
	*faces = NULL;
	try {
		ynDetector *d = (ynDetector *)dv;
		cv::Mat *m = (cv::Mat *)img;
		// YuNet's priors assume sides that are multiples of 32: pad the
		// frame on the right and bottom rather than let them misalign.
		int pw = (m->cols + 31) / 32 * 32, ph = (m->rows + 31) / 32 * 32;
		cv::Mat in = *m;
		if (pw != m->cols || ph != m->rows)
			cv::copyMakeBorder(*m, in, 0, ph - m->rows, 0, pw - m->cols, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
		if (in.size() != d->size) {
			d->det->setInputSize(in.size());
			d->size = in.size();
		}
		cv::Mat out;
		d->det->detect(in, out);
		if (out.empty() || out.rows == 0) return 0;
		cv::Mat f;
		out.convertTo(f, CV_32F);
		int n = f.rows, cols = std::min(f.cols, 15);
		float *res = (float *)calloc((size_t)n * 15, sizeof(float));
		if (!res) {
			*err = ynError("out of memory");
			return -1;
		}
		for (int i = 0; i < n; i++)
			for (int k = 0; k < cols; k++) res[15 * i + k] = f.at<float>(i, k);
		*faces = res;
		return n;
	} catch (const std::exception &e) {
		*err = ynError(e.what());
		return -1;
	}
}
