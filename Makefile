# lincomp - see README.md. `make` builds the library and CLI into build/.
# SANITIZE=1 builds with ASan+UBSan into build-san/.

CC      ?= cc
PREFIX  ?= /usr/local
ifeq ($(FUZZ),1)
# internal: `make fuzz` re-runs make with FUZZ=1 to build the libFuzzer
# harnesses with clang into build-fuzz/ (see the fuzz target below)
B       := build-fuzz
CC      := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else ifeq ($(SANITIZE),1)
B       := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else
B       := build
SANFLAGS :=
OPT     := -O2 -g
endif

CFLAGS_ALL  = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror $(OPT) $(SANFLAGS) \
              -fPIC -fvisibility=hidden -Iinclude -Isrc -I$(B)/gen $(CFLAGS)
LDLIBS_ALL  = -llapacke -lopenblas -lglpk -lprotobuf-c -lcjson -lcsv -lz -lm $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

# Library version from the header; the soname changes only with the ABI.
VERSION   := $(shell sed -n 's/^\#define LC_VERSION "\(.*\)"/\1/p' include/lincomp.h)
SOVERSION := 0
SONAME    := liblincomp.so.$(SOVERSION)

# One folder a concern (docs/architecture.md): the library is every folder of
# src/ but cli/, which is the command (and no part of the library).
LIB_DIRS := util core data onnx compress prove train export pipeline
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/unit/*.c)
GEN_SRC  := $(B)/gen/onnx.pb-c.c

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/onnx.pb-c.o
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)

.PHONY: all setup test demo check-fresh bench bench-quick clean install uninstall examples fuzz fuzz-build
all: $(B)/liblincomp.a $(B)/liblincomp.so $(B)/lincomp

# Checks (and as root installs) the Debian packages; cheap when all present.
$(B)/.setup: scripts/setup.sh
	@sh scripts/setup.sh build
	@mkdir -p $(B) && touch $@

# The .proto comes with libonnx-dev, which the set-up step installs: it is an
# order-only prerequisite of the stamp, never a file make must find before
# set-up has run (on a new machine it does not exist yet).
$(GEN_SRC): | $(B)/.setup
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -I/usr/include/onnx /usr/include/onnx/onnx.proto

# generated code is not ours to warn about
$(B)/gen/onnx.pb-c.o: $(GEN_SRC)
	$(CC) -std=c11 $(OPT) $(SANFLAGS) -fPIC -I$(B)/gen -c $< -o $@

$(B)/%.o: %.c $(GEN_SRC) $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/liblincomp.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# The soname carries the ABI version: a program linked against this library
# asks for liblincomp.so.$(SOVERSION) at run time (see install below).
# (relinked when the Makefile changes, so an older build gains the soname)
$(B)/liblincomp.so: $(LIB_OBJ) Makefile
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS_ALL) -o $@ $(LIB_OBJ) $(LDLIBS_ALL)

$(B)/lincomp: $(CLI_OBJ) $(B)/liblincomp.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/liblincomp.a $(LDLIBS_ALL)

# the chart ticks are the CLI's, but pure functions worth a unit test
$(B)/test_unit: $(TEST_OBJ) $(B)/src/cli/ticks.o $(B)/liblincomp.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(B)/src/cli/ticks.o $(B)/liblincomp.a $(LDLIBS_ALL)

# Replays saved fuzz inputs through the harnesses' entry points (make test).
$(B)/replay: fuzz/replay.c fuzz/targets.c fuzz/targets.h $(B)/liblincomp.a
	$(CC) $(CFLAGS_ALL) -o $@ fuzz/replay.c fuzz/targets.c $(B)/liblincomp.a $(LDLIBS_ALL)

$(B)/bench_forward: bench/bench_forward.c $(B)/liblincomp.a
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/liblincomp.a $(LDLIBS_ALL)

bench: all $(B)/bench_forward
	@sh scripts/setup.sh test
	@B=$(B) sh bench/run

# a reduced run of a few minutes, for development (bench/bench.py: CONFIG)
bench-quick: all $(B)/bench_forward
	@sh scripts/setup.sh test
	@BENCH_QUICK=1 B=$(B) sh bench/run

test: all $(B)/test_unit $(B)/replay
	@sh scripts/setup.sh test
	@B=$(B) sh tests/run

demo: all
	@sh scripts/setup.sh demo
	$(B)/lincomp demo

# The README's two commands (make demo, make test) on a new Debian system
# made with debootstrap (minbase + gcc + make), from a clean clone of the
# committed HEAD; as root, about 10 minutes (scripts/check-fresh.sh).
check-fresh:
	@sh scripts/check-fresh.sh

# ------------------------------------------------------------------- fuzz
# make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="onnx csv"]: builds every harness
# with clang -fsanitize=fuzzer,address,undefined into build-fuzz/ and runs
# each for N seconds, one after the other. New inputs go to
# build-fuzz/corpus/T/ (fuzz/corpus/T/ and fuzz/regressions/T/ are read as
# seeds), crashes to build-fuzz/artifacts/T/: copy each into
# fuzz/regressions/T/ once fixed (docs/robustness.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= onnx csv idx npy preproc_json
FUZZ_FLAGS   ?= -rss_limit_mb=2048 -timeout=10 -max_len=65536
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz: needs clang and libFuzzer (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build-fuzz/corpus/$$t build-fuzz/artifacts/$$t fuzz/regressions/$$t; \
	    dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$t $(FUZZ_FLAGS) $$dict -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=build-fuzz/artifacts/$$t/ \
	        build-fuzz/corpus/$$t fuzz/corpus/$$t fuzz/regressions/$$t || exit 1; \
	done

ifeq ($(FUZZ),1)
fuzz-build: $(addprefix $(B)/fuzz_,$(FUZZ_TARGETS))
$(B)/fuzz_%: fuzz/fuzz_%.c fuzz/targets.c fuzz/targets.h $(B)/liblincomp.a
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ fuzz/fuzz_$*.c fuzz/targets.c $(B)/liblincomp.a $(LDLIBS_ALL)
endif

# ---------------------------------------------------------------- install
# make install PREFIX=DIR [DESTDIR=staging]: the CLI, both libraries, the
# header, a pkg-config file, the man page and the Python package (in the
# prefix's Debian Python path; it finds PREFIX/lib/liblincomp.so.0 from there). The shared library is the file
# liblincomp.so.$(SOVERSION) (its soname) with liblincomp.so linking to it
# for -llincomp. `make uninstall` with the same PREFIX removes exactly these.
BINDIR  = $(PREFIX)/bin
LIBDIR  = $(PREFIX)/lib
INCDIR  = $(PREFIX)/include
PCDIR   = $(LIBDIR)/pkgconfig
MAN1DIR = $(PREFIX)/share/man/man1
PYDIR   = $(LIBDIR)/python3/dist-packages/lincomp
PY_SRC  = $(wildcard python/lincomp/*.py)
INSTALLED = $(BINDIR)/lincomp $(LIBDIR)/liblincomp.a $(LIBDIR)/liblincomp.so \
            $(LIBDIR)/$(SONAME) $(INCDIR)/lincomp.h $(PCDIR)/lincomp.pc \
            $(MAN1DIR)/lincomp.1 $(addprefix $(PYDIR)/,$(notdir $(PY_SRC)))

install: all lincomp.pc.in docs/lincomp.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	           $(DESTDIR)$(PCDIR) $(DESTDIR)$(MAN1DIR)
	install -m 755 $(B)/lincomp $(DESTDIR)$(BINDIR)/lincomp
	install -m 644 $(B)/liblincomp.a $(DESTDIR)$(LIBDIR)/liblincomp.a
	install -m 755 $(B)/liblincomp.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/liblincomp.so
	install -m 644 include/lincomp.h $(DESTDIR)$(INCDIR)/lincomp.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lincomp.pc.in \
	    > $(DESTDIR)$(PCDIR)/lincomp.pc
	chmod 644 $(DESTDIR)$(PCDIR)/lincomp.pc
	install -m 644 docs/lincomp.1 $(DESTDIR)$(MAN1DIR)/lincomp.1
	install -d $(DESTDIR)$(PYDIR)
	install -m 644 $(PY_SRC) $(DESTDIR)$(PYDIR)/

# (Python leaves byte code beside the package when it may write there)
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rm -rf $(DESTDIR)$(PYDIR)/__pycache__
	-rmdir $(DESTDIR)$(PYDIR) 2>/dev/null

# Builds examples/*.c against the INSTALLED library (make install first), as
# a user would: pkg-config finds lincomp.pc under PREFIX; the rpath lets the
# programs find liblincomp.so.$(SOVERSION) in a prefix outside the loader's path.
EXAMPLES_DIR ?= $(B)/examples
examples:
	@mkdir -p $(EXAMPLES_DIR)
	@export PKG_CONFIG_PATH="$(PREFIX)/lib/pkgconfig$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH}"; \
	pkg-config --exists lincomp || { echo "make examples: no lincomp.pc in $(PREFIX)/lib/pkgconfig (run make install PREFIX=$(PREFIX) first)" >&2; exit 1; }; \
	for f in $(wildcard examples/*.c); do \
	    exe=$(EXAMPLES_DIR)/$$(basename $$f .c); \
	    echo "  CC $$f -> $$exe"; \
	    $(CC) -std=c11 -Wall -Wextra -Werror -O2 -o $$exe $$f \
	        $$(pkg-config --cflags --libs lincomp) -lm \
	        -Wl,-rpath,$$(pkg-config --variable=libdir lincomp) || exit 1; \
	done

clean:
	rm -rf build build-san build-fuzz
