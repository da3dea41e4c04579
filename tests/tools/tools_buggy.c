/* tools_buggy: two bugs memcheck must report in hgc's heap (test_valgrind):
 * a read one byte past the 10 bytes asked for, and a read after hgc_free.
 * It prints hgc_size of the 10-byte object: 10 under memcheck, where hgc
 * is in tool mode, its slot's 16 bytes otherwise. */
#include <hgc.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char *a = hgc_malloc(10);
    memset(a, 'x', 10);
    volatile char past_end = a[10];
    char *b = hgc_malloc_atomic(40);
    hgc_free(b);
    volatile char after_free = b[3];
    (void)past_end, (void)after_free;
    printf("tools_buggy: hgc_size %zu\n", hgc_size(a));
    return 0;
}
