#include <opencv2/opencv.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/face.hpp>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "facerec.h"

static char *dupErr(const char *s) {
    size_t n = strlen(s);
    char *d = (char *)malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

char *GGFacerec_CheckONNX(const char *path) {
    try {
        cv::dnn::Net n = cv::dnn::readNetFromONNX(path);
        if (n.empty()) return dupErr("no layers");
        return NULL;
    } catch (const cv::Exception &e) {
        return dupErr(e.what());
    } catch (...) {
        return dupErr("unknown exception");
    }
}

struct lbph {
    cv::Ptr<cv::face::LBPHFaceRecognizer> r;
};

GGLBPH GGLBPH_New(int radius, int neighbors, int gridX, int gridY, char **err) {
    try {
        lbph *l = new lbph;
        l->r = cv::face::LBPHFaceRecognizer::create(radius, neighbors, gridX, gridY);
        return l;
    } catch (const cv::Exception &e) {
        *err = dupErr(e.what());
        return NULL;
    }
}

void GGLBPH_Close(GGLBPH l) { delete (lbph *)l; }

int GGLBPH_Histogram(GGLBPH p, void *grey, float **hist, char **err) {
    try {
        lbph *l = (lbph *)p;
        std::vector<cv::Mat> imgs{*(cv::Mat *)grey};
        std::vector<int> labels{0};
        // Training on one image computes exactly its histogram, the template
        // LBPH's predict compares with.
        l->r->train(imgs, labels);
        std::vector<cv::Mat> h = l->r->getHistograms();
        if (h.size() != 1) {
            *err = dupErr("LBPH gave no histogram");
            return -1;
        }
        cv::Mat m = h[0].reshape(1, 1);
        if (m.type() != CV_32F) m.convertTo(m, CV_32F);
        if (!m.isContinuous()) m = m.clone();
        int n = (int)m.total();
        float *out = (float *)malloc(sizeof(float) * n);
        if (!out) {
            *err = dupErr("out of memory");
            return -1;
        }
        memcpy(out, m.ptr<float>(), sizeof(float) * n);
        *hist = out;
        return n;
    } catch (const cv::Exception &e) {
        *err = dupErr(e.what());
        return -1;
    }
}
