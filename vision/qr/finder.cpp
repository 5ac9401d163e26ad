// Finder-pattern search: a cheap test for "is there anything code-like in
// this frame, and where", which gates the decoder's slow strategies (see
// wechat.h, GGQR_Finders).
#pragma GCC optimize("O3")
#include "wechat.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <vector>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/core/hal/intrin.hpp>

namespace {

struct Pattern {
	float x, y, m; // centre and module size, in the scanned image's pixels
	int hits;      // rows that crossed it
};

// quarter returns the mean of each 4×4 block of g.
static cv::Mat quarter(const cv::Mat &g) {
	int w = g.cols / 4, h = g.rows / 4;
	cv::Mat q(h, w, CV_8UC1);
	std::vector<uint16_t> acc(w);
	for (int by = 0; by < h; by++) {
		std::fill(acc.begin(), acc.end(), 0);
		for (int y = 4 * by; y < 4 * by + 4; y++) {
			const uint8_t *s = g.ptr<uint8_t>(y);
			for (int bx = 0; bx < w; bx++) acc[bx] += s[4 * bx] + s[4 * bx + 1] + s[4 * bx + 2] + s[4 * bx + 3];
		}
		uint8_t *d = q.ptr<uint8_t>(by);
		for (int bx = 0; bx < w; bx++) d[bx] = (uint8_t)((acc[bx] + 8) >> 4);
	}
	return q;
}

// binarise marks each pixel of g dark (1) or light (0) against the mean of
// the 40×40 pixels around it (q is g's quarter), with a margin so that flat
// areas (paper, skin, a wall) do not turn into noise.
static void binarise(const cv::Mat &g, const cv::Mat &q, cv::Mat &dark) {
	// Means of 8×8 blocks from the quarter, then of 5×5 of those blocks.
	int w = std::max(1, q.cols / 2), h = std::max(1, q.rows / 2);
	std::vector<int> m8(w * h), mean(w * h);
	for (int by = 0; by < h; by++) {
		const uint8_t *a = q.ptr<uint8_t>(std::min(2 * by, q.rows - 1)), *b = q.ptr<uint8_t>(std::min(2 * by + 1, q.rows - 1));
		for (int bx = 0; bx < w; bx++) {
			int x0 = std::min(2 * bx, q.cols - 1), x1 = std::min(2 * bx + 1, q.cols - 1);
			m8[by * w + bx] = a[x0] + a[x1] + b[x0] + b[x1];
		}
	}
	// Separable 5×5 box, clipped at the borders.
	std::vector<int> hs(w * h), hn(w);
	for (int bx = 0; bx < w; bx++) hn[bx] = std::min(bx + 2, w - 1) - std::max(bx - 2, 0) + 1;
	for (int by = 0; by < h; by++) {
		const int *r = &m8[by * w];
		for (int bx = 0; bx < w; bx++) {
			int sum = 0;
			for (int xx = std::max(bx - 2, 0); xx <= std::min(bx + 2, w - 1); xx++) sum += r[xx];
			hs[by * w + bx] = sum;
		}
	}
	for (int by = 0; by < h; by++) {
		int y0 = std::max(by - 2, 0), y1 = std::min(by + 2, h - 1);
		for (int bx = 0; bx < w; bx++) {
			int sum = 0;
			for (int yy = y0; yy <= y1; yy++) sum += hs[yy * w + bx];
			mean[by * w + bx] = sum / (4 * hn[bx] * (y1 - y0 + 1));
		}
	}
	dark.create(g.rows, g.cols, CV_8UC1);
	std::vector<uint8_t> thr(g.cols);
	for (int y = 0; y < g.rows; y++) {
		if (y % 8 == 0) {
			const int *mr = &mean[std::min(y / 8, h - 1) * w];
			for (int x = 0; x < g.cols; x++) {
				int t = mr[std::min(x / 8, w - 1)];
				thr[x] = (uint8_t)std::max(0, t - 2 - t / 16);
			}
		}
		// Locals and __restrict: through a uint8_t* store the compiler must
		// assume anything changed (g.cols too), and the loop stays scalar.
		const uint8_t *__restrict s = g.ptr<uint8_t>(y), *__restrict t = thr.data();
		uint8_t *__restrict d = dark.ptr<uint8_t>(y);
		const int n = g.cols;
		for (int x = 0; x < n; x++) d[x] = s[x] < t[x] ? 1 : 0;
	}
}

// ratio reports whether five runs look like a finder pattern's 1:1:3:1:1
// and stores the module size.
static bool ratio(const int r[5], float *m) {
	int total = r[0] + r[1] + r[2] + r[3] + r[4];
	if (total < 7) return false;
	int side = std::max(std::max(r[0], r[1]), std::max(r[3], r[4]));
	if (r[2] <= side) return false;
	// zxing-cpp's tolerance (half a module, three halves on the centre),
	// plus half a pixel for the rounding of small modules.
	float u = total / 7.f, tol = u / 2 + 0.5f;
	if (std::fabs(r[0] - u) > tol || std::fabs(r[1] - u) > tol || std::fabs(r[3] - u) > tol ||
	    std::fabs(r[4] - u) > tol || std::fabs(r[2] - 3 * u) > 3 * tol)
		return false;
	*m = u;
	return true;
}

// vertical checks the column at x through row y for the same pattern and
// returns the centre row, or -1.
static float vertical(const cv::Mat &d, int x, int y, float hm) {
	auto at = [&](int yy) { return d.at<uint8_t>(yy, x) != 0; };
	if (!at(y)) return -1;
	int r[5] = {0, 0, 0, 0, 0};
	int lim = (int)(hm * 5) + 2;
	int yy = y;
	while (yy >= 0 && at(yy)) r[2]++, yy--;
	while (yy >= 0 && !at(yy) && r[1] <= lim) r[1]++, yy--;
	while (yy >= 0 && at(yy) && r[0] <= lim) r[0]++, yy--;
	int top = yy + 1;
	yy = y + 1;
	while (yy < d.rows && at(yy)) r[2]++, yy++;
	int cEnd = yy;
	while (yy < d.rows && !at(yy) && r[3] <= lim) r[3]++, yy++;
	while (yy < d.rows && at(yy) && r[4] <= lim) r[4]++, yy++;
	if (!r[0] || !r[1] || !r[3] || !r[4]) return -1;
	float vm;
	if (!ratio(r, &vm) || vm < hm * 0.6f || vm > hm * 1.6f) return -1;
	(void)top;
	return cEnd - r[2] / 2.f;
}

static void scan(const cv::Mat &d, std::vector<Pattern> &out, float scale) {
	std::vector<Pattern> found;
	const int cols = d.cols, rows = d.rows;
	std::vector<int> buf(cols + 2);
	for (int y = 0; y < rows; y++) {
		const uint8_t *__restrict row = d.ptr<uint8_t>(y);
		int *__restrict rb = buf.data();
		// Where the colour changes, without a branch per pixel (noise
		// makes such a branch unpredictable): then run lengths.
		int nt = 0;
		rb[nt++] = 0;
		int x = 1;
		for (; x + 8 <= cols; x += 8) {
			uint64_t a, b;
			memcpy(&a, row + x, 8);
			memcpy(&b, row + x - 1, 8);
			if (a == b) continue; // no change in these 8: the common case
			for (int k = x; k < x + 8; k++) {
				rb[nt] = k;
				nt += row[k] != row[k - 1];
			}
		}
		for (; x < cols; x++) {
			rb[nt] = x;
			nt += row[x] != row[x - 1];
		}
		rb[nt++] = cols;
		int nr = nt - 1;
		for (int i = 0; i < nr; i++) rb[i] = rb[i + 1] - rb[i];
		const int *runs = rb;
		// runs alternate; the first one has row[0]'s colour.
		int first = row[0] ? 0 : 1; // index of the first dark run
		int x0 = 0;
		for (int i = 0; i < first; i++) x0 += runs[i];
		for (int i = first; i + 4 < nr; i += 2) {
			float m;
			if (ratio(&runs[i], &m)) {
				int cx = x0 + runs[i] + runs[i + 1] + runs[i + 2] / 2;
				float cy = vertical(d, cx, y, m);
				if (cy >= 0) {
					bool merged = false;
					for (auto &p : found)
						if (std::fabs(p.x - cx) < 2 * p.m + 1 && std::fabs(p.y - cy) < 2 * p.m + 1) {
							p.x = (p.x * p.hits + cx) / (p.hits + 1);
							p.y = (p.y * p.hits + cy) / (p.hits + 1);
							p.m = (p.m * p.hits + m) / (p.hits + 1);
							p.hits++;
							merged = true;
							break;
						}
					if (!merged && found.size() < 256) found.push_back({(float)cx, cy, m, 1});
				}
			}
			x0 += runs[i] + runs[i + 1];
		}
	}
	for (auto &p : found)
		if (p.hits >= 2) out.push_back({p.x * scale, p.y * scale, p.m * scale, p.hits});
}

struct Box {
	float x0, y0, x1, y1;
	float m;       // module size
	int triple;    // 1: three finders, corners below; 0: a pair
	float c[6];    // a triple's finder centres: top left (the right angle), then the other two
};

} // namespace

int GGQR_Finders(void *grey, float *rois, int maxRois, char **err) {
	try {
		cv::Mat *g = (cv::Mat *)grey;
		if (g->type() != CV_8UC1) {
			const char *msg = "finders: want an 8-bit grey image";
			*err = (char *)malloc(strlen(msg) + 1);
			if (*err) strcpy(*err, msg);
			return -1;
		}
		std::vector<Pattern> ps;
		if (g->cols < 32 || g->rows < 32) return 0;
		static thread_local cv::Mat dark; // reused: a fresh one costs page faults
		cv::Mat q = quarter(*g);
		binarise(*g, q, dark);
		scan(dark, ps, 1);
		if (std::min(g->cols, g->rows) >= 240) {
			// Large modules: the 40-pixel mean cannot see a finder's
			// 3-module centre of 60 pixels as dark; look at a quarter of
			// the size too.
			cv::Mat qq = quarter(q);
			binarise(q, qq, dark);
			scan(dark, ps, 4);
		}
		// Pairs of patterns of a like module size at a distance a QR code's
		// finders can be apart (14 modules for version 1 to 170 for 40).
		int n = (int)ps.size();
		std::vector<char> pair(n * n, 0);
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++) {
				float mr = ps[i].m / ps[j].m;
				if (mr < 0.6f || mr > 1.67f) continue;
				float m = (ps[i].m + ps[j].m) / 2;
				float dist = std::hypot(ps[i].x - ps[j].x, ps[i].y - ps[j].y);
				if (dist < 11 * m || dist > 180 * m) continue;
				pair[i * n + j] = pair[j * n + i] = 1;
			}
		std::vector<Box> boxes;
		std::vector<char> explained(n, 0);
		auto dist = [&](int i, int j) { return std::hypot(ps[i].x - ps[j].x, ps[i].y - ps[j].y); };
		// Triples like a code's three finders (a right angle at one, two
		// like sides, tilt allowed): the code is the parallelogram they
		// span, plus its finders' half width.
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++) {
				if (!pair[i * n + j]) continue;
				for (int k = j + 1; k < n; k++) {
					if (!pair[i * n + k] || !pair[j * n + k]) continue;
					float dij = dist(i, j), dik = dist(i, k), djk = dist(j, k);
					// c: the corner opposite the longest side.
					int c = k, a2 = i, b2 = j;
					float lg = dij, s1 = dik, s2 = djk;
					if (dik >= dij && dik >= djk) c = j, a2 = i, b2 = k, lg = dik, s1 = dij, s2 = djk;
					else if (djk >= dij && djk >= dik) c = i, a2 = j, b2 = k, lg = djk, s1 = dij, s2 = dik;
					float r = std::max(s1, s2) / std::min(s1, s2), h = lg / std::max(s1, s2);
					if (r > 1.6f || h < 1.05f || h > 1.9f) continue;
					float m = (ps[i].m + ps[j].m + ps[k].m) / 3, e = 6 * m;
					float px = ps[a2].x + ps[b2].x - ps[c].x, py = ps[a2].y + ps[b2].y - ps[c].y;
					Box bx{std::min({ps[i].x, ps[j].x, ps[k].x, px}) - e, std::min({ps[i].y, ps[j].y, ps[k].y, py}) - e,
					       std::max({ps[i].x, ps[j].x, ps[k].x, px}) + e, std::max({ps[i].y, ps[j].y, ps[k].y, py}) + e,
					       m, 1, {ps[c].x, ps[c].y, ps[a2].x, ps[a2].y, ps[b2].x, ps[b2].y}};
					boxes.push_back(bx);
					explained[i] = explained[j] = explained[k] = 1;
				}
			}
		// Pairs not part of such a triple (a finder lost to glare): two
		// finders of a code are the ends of one of its sides or of its
		// diagonal, so the code lies in one of the two squares on the
		// segment between them, one each side; the region is the box
		// around both squares (A±p, B±p, p the segment turned a right
		// angle), plus the finders' half width. (Reaching the pair's
		// distance all round, as before, took three times the area for a
		// level pair.)
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++) {
				if (!pair[i * n + j] || (explained[i] && explained[j])) continue;
				float e = 6 * (ps[i].m + ps[j].m) / 2;
				float px = -(ps[j].y - ps[i].y), py = ps[j].x - ps[i].x;
				float xs[4] = {ps[i].x + px, ps[i].x - px, ps[j].x + px, ps[j].x - px};
				float ys[4] = {ps[i].y + py, ps[i].y - py, ps[j].y + py, ps[j].y - py};
				boxes.push_back({*std::min_element(xs, xs + 4) - e, *std::min_element(ys, ys + 4) - e,
				                 *std::max_element(xs, xs + 4) + e, *std::max_element(ys, ys + 4) + e,
				                 (ps[i].m + ps[j].m) / 2, 0, {0, 0, 0, 0, 0, 0}});
			}
		int nr = 0;
		for (auto &bx : boxes) {
			float x0 = std::max(0.f, bx.x0), y0 = std::max(0.f, bx.y0);
			float x1 = std::min((float)g->cols, bx.x1), y1 = std::min((float)g->rows, bx.y1);
			if (x1 - x0 < 21 || y1 - y0 < 21) continue;
			// The same code's finders, found again (on both scales, or as
			// several patterns of one finder): widen the region already
			// kept rather than spend one of maxRois on it.
			bool same = false;
			for (int k = 0; k < nr && !same; k++) {
				float *o = rois + GG_FINDER_FLOATS * k;
				if (o[5] != (float)bx.triple) continue;
				float iw = std::min(x1, o[2]) - std::max(x0, o[0]), ih = std::min(y1, o[3]) - std::max(y0, o[1]);
				if (iw <= 0 || ih <= 0) continue;
				float in = iw * ih, un = (x1 - x0) * (y1 - y0) + (o[2] - o[0]) * (o[3] - o[1]) - in;
				if (in < 0.8f * un) continue;
				o[0] = std::min(o[0], x0), o[1] = std::min(o[1], y0), o[2] = std::max(o[2], x1), o[3] = std::max(o[3], y1);
				same = true;
			}
			if (same) continue;
			if (nr == maxRois) break;
			float *o = rois + GG_FINDER_FLOATS * nr;
			o[0] = x0, o[1] = y0, o[2] = x1, o[3] = y1, o[4] = bx.m, o[5] = (float)bx.triple;
			for (int k = 0; k < 6; k++) o[6 + k] = bx.c[k];
			nr++;
		}
		return nr;
	} catch (const std::exception &e) {
		size_t l = strlen(e.what());
		*err = (char *)malloc(l + 1);
		if (*err) memcpy(*err, e.what(), l + 1);
		return -1;
	}
}

int GGQR_Darkest(void *bgr, void *grey, char **err) {
	try {
		cv::Mat *src = (cv::Mat *)bgr, *dst = (cv::Mat *)grey;
		int ch = src->channels();
		if (src->depth() != CV_8U || (ch != 3 && ch != 4)) {
			const char *msg = "darkest: want an 8-bit BGR or BGRA image";
			*err = (char *)malloc(strlen(msg) + 1);
			if (*err) strcpy(*err, msg);
			return -1;
		}
		dst->create(src->rows, src->cols, CV_8UC1);
		const int rows = src->rows, cols = src->cols;
		for (int y = 0; y < rows; y++) {
			const uint8_t *__restrict s = src->ptr<uint8_t>(y);
			uint8_t *__restrict d = dst->ptr<uint8_t>(y);
			int x = 0;
#if CV_SIMD128
			// The compiler leaves the strided loop below scalar (~1 ns a
			// pixel, three times cv::cvtColor's luminance): deinterleave
			// 16 pixels at a time instead.
			const int n = cv::v_uint8x16::nlanes;
			if (ch == 3)
				for (; x + n <= cols; x += n) {
					cv::v_uint8x16 b, g, r;
					cv::v_load_deinterleave(s + 3 * x, b, g, r);
					cv::v_store(d + x, cv::v_min(cv::v_min(b, g), r));
				}
			else
				for (; x + n <= cols; x += n) {
					cv::v_uint8x16 b, g, r, a;
					cv::v_load_deinterleave(s + 4 * x, b, g, r, a);
					cv::v_store(d + x, cv::v_min(cv::v_min(b, g), r));
				}
#endif
			if (ch == 3)
				for (; x < cols; x++) d[x] = std::min(std::min(s[3 * x], s[3 * x + 1]), s[3 * x + 2]);
			else
				for (; x < cols; x++) d[x] = std::min(std::min(s[4 * x], s[4 * x + 1]), s[4 * x + 2]);
		}
		return 0;
	} catch (const std::exception &e) {
		size_t l = strlen(e.what());
		*err = (char *)malloc(l + 1);
		if (*err) memcpy(*err, e.what(), l + 1);
		return -1;
	}
}
