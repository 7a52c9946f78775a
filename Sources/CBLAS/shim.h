#ifndef KERASDELTA_CBLAS_SHIM_H
#define KERASDELTA_CBLAS_SHIM_H
#include <cblas.h>
#endif
