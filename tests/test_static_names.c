#define _GNU_SOURCE
/*
 * test_static_names: a program that defines functions with the names hgc
 * uses internally (static_names.txt: sweep_span, option_get, meta_alloc...)
 * links libhgc.a statically and runs.  The build generates one definition
 * per name (static_names_defs.c); each returns its own index, so a call that
 * reached hgc's function of that name instead would be caught, and the
 * collector must still work around them.
 */
#include <stdio.h>

#include "hgc.h"
#include "test.h"

typedef int (*name_fn)(void);
extern const name_fn static_names_fns[];
extern const char *const static_names[];
extern const int static_names_count;

struct node {
    struct node *next;
    long value;
};

int main(void)
{
    CHECK(static_names_count > 100);
    for (int i = 0; i < static_names_count; i++)
        CHECKF(static_names_fns[i]() == i, "%s: the program's definition was not the one called",
               static_names[i]);

    struct node *list = NULL;
    for (long i = 0; i < 200000; i++) {
        struct node *n = hgc_malloc(sizeof *n);
        CHECK(n != NULL);
        n->value = i;
        n->next = i % 1000 ? list : NULL;
        list = n;
    }
    hgc_collect();
    long expect = 199999;
    for (struct node *n = list; n; n = n->next)
        CHECK(n->value == expect--);
    CHECK(expect == 199999 - 1000);
    hgc_stats s;
    hgc_get_stats(&s);
    CHECK(s.collections >= 1);
    printf("test_static_names: %d names defined by the program, hgc collected %llu times\n",
           static_names_count, (unsigned long long)s.collections);
    return 0;
}
