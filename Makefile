# Convenience entry points; the build itself is CMake.
.PHONY: all bench test soak kv-soak fuzz clean

all:
	scripts/deps.sh
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j2

bench:
	scripts/bench.sh

test:
	scripts/test.sh

soak:
	scripts/soak.sh

kv-soak:
	scripts/kv_soak.sh

fuzz:
	scripts/fuzz.sh

clean:
	rm -rf build build-test build-debug build-asan build-tsan
