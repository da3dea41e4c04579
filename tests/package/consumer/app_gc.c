/* app_gc: the same list through the Boehm interface. */
#include <gc.h>
#include <stdio.h>

struct node { struct node *next; long value; };

int main(void)
{
    GC_INIT();
    struct node *list = NULL;
    for (long i = 1; i <= 100000; i++) {
        struct node *n = GC_NEW(struct node);
        n->value = i;
        n->next = list;
        list = n;
    }
    GC_gcollect();
    long sum = 0;
    for (struct node *n = list; n; n = n->next)
        sum += n->value;
    printf("app_gc: sum %ld, collections %s\n", sum, GC_get_gc_no() > 0 ? "yes" : "no");
    return sum == 5000050000L ? 0 : 1;
}
