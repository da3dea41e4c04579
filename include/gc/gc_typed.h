/* gc/gc_typed.h -- the same header as gc_typed.h, at the path some programs use. */
#include "../gc_typed.h"
