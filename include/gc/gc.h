/* gc/gc.h -- the same header as gc.h, at the path some programs use. */
#include "../gc.h"
