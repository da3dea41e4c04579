/* gc/gc_mark.h -- the same header as gc_mark.h, at the path some programs use. */
#include "../gc_mark.h"
