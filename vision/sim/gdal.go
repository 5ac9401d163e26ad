package sim

/*
#define _GNU_SOURCE
#include <dlfcn.h>

// gg_gdal_drivers returns GDAL's registered driver count, or -1 when GDAL
// is not loaded (no GDALGetDriverCount in the process).
static int gg_gdal_drivers(void) {
	int (*count)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "GDALGetDriverCount");
	return count == NULL ? -1 : count();
}
*/
import "C"

// gdalDrivers reports how many GDAL drivers are registered in the process
// (-1: GDAL is not loaded). Debian's OpenCV loads GDAL with imgcodecs, and
// registers its drivers on the first imread or imdecode; the tests check the
// simulated camera does not (see readFace).
func gdalDrivers() int { return int(C.gg_gdal_drivers()) }
