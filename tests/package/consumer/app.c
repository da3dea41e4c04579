/* app: a list built in hgc's heap survives a collection; prints its sum. */
#include <hgc.h>
#include <stdio.h>

struct node { struct node *next; long value; };

int main(void)
{
    struct node *list = NULL;
    for (long i = 1; i <= 100000; i++) {
        struct node *n = hgc_malloc(sizeof *n);
        n->value = i;
        n->next = list;
        list = n;
    }
    hgc_collect();
    long sum = 0;
    for (struct node *n = list; n; n = n->next)
        sum += n->value;
    hgc_stats s;
    hgc_get_stats(&s);
    printf("app: sum %ld, collections %s\n", sum, s.collections > 0 ? "yes" : "no");
    return sum == 5000050000L ? 0 : 1;
}
