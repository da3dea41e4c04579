# A Boehm GC program's build as such projects write one: flags from
# `pkg-config bdw-gc`.  test_package.sh runs it with PKG_CONFIG_PATH naming
# hgc's lib/hgc/pkgconfig.  SRC: the directory of boehm_program.c.
CFLAGS += $(shell pkg-config --cflags bdw-gc)
LDLIBS += $(shell pkg-config --libs bdw-gc) -lpthread -ldl

boehm_program: $(SRC)/boehm_program.c
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)
