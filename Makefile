# lincomp - see README.md. `make` builds the library and CLI into build/.
# SANITIZE=1 builds with ASan+UBSan into build-san/.

CC      ?= cc
PREFIX  ?= /usr/local
ifeq ($(SANITIZE),1)
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
LDLIBS_ALL  = -lopenblas -lglpk -lprotobuf-c -lcjson -lcsv -lz -lm $(LDLIBS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

LIB_SRC  := $(wildcard src/*.c src/data/*.c src/onnx/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/unit/*.c)
GEN_SRC  := $(B)/gen/onnx.pb-c.c

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/onnx.pb-c.o
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)

.PHONY: all setup test demo bench clean install uninstall
all: $(B)/liblincomp.a $(B)/liblincomp.so $(B)/lincomp

# Checks (and as root installs) the Debian packages; cheap when all present.
$(B)/.setup: scripts/setup.sh
	@sh scripts/setup.sh build
	@mkdir -p $(B) && touch $@

$(GEN_SRC): /usr/include/onnx/onnx.proto $(B)/.setup
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -I/usr/include/onnx /usr/include/onnx/onnx.proto

# generated code is not ours to warn about
$(B)/gen/onnx.pb-c.o: $(GEN_SRC)
	$(CC) -std=c11 $(OPT) $(SANFLAGS) -fPIC -I$(B)/gen -c $< -o $@

$(B)/%.o: %.c $(GEN_SRC) $(wildcard include/*.h src/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/liblincomp.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/liblincomp.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/lincomp: $(CLI_OBJ) $(B)/liblincomp.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/liblincomp.a $(LDLIBS_ALL)

$(B)/test_unit: $(TEST_OBJ) $(B)/liblincomp.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(B)/liblincomp.a $(LDLIBS_ALL)

$(B)/bench_forward: bench/bench_forward.c $(B)/liblincomp.a
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/liblincomp.a $(LDLIBS_ALL)

bench: all $(B)/bench_forward
	@sh scripts/setup.sh test
	@B=$(B) sh bench/run

test: all $(B)/test_unit
	@sh scripts/setup.sh test
	@B=$(B) sh tests/run

demo: all
	@sh scripts/setup.sh demo
	$(B)/lincomp info examples/iris.onnx
	$(B)/lincomp predict examples/iris.onnx --data examples/iris-sample.csv -o -

clean:
	rm -rf build build-san
