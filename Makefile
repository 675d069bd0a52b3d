# Makefile: builds libracelab, the racelab binary, the tests and benchmarks
# out of tree into $(BUILD).  `make help` lists the targets.

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
V       ?= 0

ifeq ($(V),0)
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
else
Q :=
say = @true
endif

# ---------------------------------------------------------------- deps
DEB_PACKAGES := check libunwind-dev lcov pkg-config libxml2-utils
NODEPS_GOALS := deps clean format help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
have_deps = $(shell pkg-config --exists check libunwind 2>/dev/null && \
    command -v lcov >/dev/null && command -v xmllint >/dev/null && echo yes)
ifneq ($(have_deps),yes)
can_apt := $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo yes)
ifeq ($(can_apt),yes)
$(info racelab: missing dependencies, running make deps)
$(shell $(MAKE) --no-print-directory deps >&2)
ifneq ($(have_deps),yes)
$(error racelab: make deps could not install: $(DEB_PACKAGES))
endif
else
$(error racelab needs the Debian packages $(DEB_PACKAGES); install them (as root: make deps))
endif
endif
endif

# --------------------------------------------------------------- flags
RL_WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
RL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -g -O2 $(RL_WARN) -MMD -MP -Ilib
ifeq ($(WERROR),1)
RL_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
RL_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
RL_LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(COVERAGE),1)
RL_CFLAGS  += --coverage -DRL_COVERAGE -O0
RL_LDFLAGS += --coverage
endif
RL_LDFLAGS += -Wl,--build-id
RL_LIBS    := -lunwind-ptrace -lunwind-generic -lunwind -lpthread -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

ALL_CFLAGS  = $(RL_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(RL_LDFLAGS) $(LDFLAGS)

# ------------------------------------------------------------- sources
# The command line (cli/) is in the library too, for rl_main; only
# cli/main.c, the racelab program's main, is not.
LIB_SRCS   := $(wildcard lib/*.c) $(wildcard harness/*.c) \
              $(wildcard reports/*.c) \
              $(filter-out cli/main.c,$(wildcard cli/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# The library again with -DRL_TESTING: small queues, pipe buffers and pools
# so that rare paths run in every test.
TLIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/tobj/%.o)
# Only the public API (RL_API in lib/racelab.h) is exported from
# libracelab.so; everything else in the library objects is hidden.
$(LIB_OBJS) $(TLIB_OBJS): ALL_CFLAGS += -fvisibility=hidden
TEST_SRCS  := $(wildcard tests/check_*.c)
TEST_BINS  := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_SCRIPTS := $(wildcard tests/test_*.sh)
TEST_UTIL  := $(wildcard tests/testutil.c)
TEST_UTIL_OBJS := $(TEST_UTIL:%.c=$(BUILD)/tobj/%.o)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
CLI_SRCS   := $(wildcard cli/main.c) $(wildcard scenarios/*.c)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

STATIC := $(BUILD)/libracelab.a
SHARED := $(BUILD)/libracelab.so
TSTATIC := $(BUILD)/libracelab-testing.a
CLI    := $(if $(wildcard cli/main.c),$(BUILD)/racelab)
# The interposer `racelab stress --noise` preloads into the programs it
# runs; not part of libracelab.
NOISE  := $(if $(wildcard noise/noise.c),$(BUILD)/libracelab-noise.so)
# The interposer `racelab run -- COMMAND` preloads into the command: its
# wrappers over lib/'s scheduler; not part of libracelab.
INTERCEPT := $(if $(wildcard intercept/core.c),$(BUILD)/libracelab-intercept.so)
IC_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard intercept/*.c))
IC_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/*.c))

.SECONDARY:
.PHONY: all test asan coverage bench install uninstall format clean deps help run soak
all: $(STATIC) $(SHARED) $(CLI) $(NOISE) $(INTERCEPT)

$(BUILD)/obj/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tobj/%.o: %.c
	$(call say,CC,$<+T)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -DRL_TESTING -c $< -o $@

$(STATIC): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TSTATIC): $(TLIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libracelab.so.0 $(ALL_LDFLAGS) -o $@ $^ $(RL_LIBS)

# Bound at load time: every execution forks fresh processes, and lazy
# binding would resolve the same symbols again in each of them.
$(BUILD)/racelab: $(CLI_OBJS) $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,-z,now -o $@ $(CLI_OBJS) $(STATIC) $(RL_LIBS)

$(BUILD)/libracelab-noise.so: noise/noise.c lib/mix.h
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -std=c11 -D_GNU_SOURCE -fPIC -O2 $(RL_WARN) \
	    $(if $(filter 1,$(WERROR)),-Werror) $(CFLAGS) -o $@ $< -ldl -lpthread

# Only the interposed functions are exported (exports.map); bound at load
# time, as every process of an execution is a fork.
$(BUILD)/libracelab-intercept.so: $(IC_OBJS) $(IC_LIB_OBJS) intercept/exports.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared $(ALL_LDFLAGS) -Wl,-z,now -Wl,--no-undefined \
	    -Wl,--version-script=intercept/exports.map -o $@ $(IC_OBJS) \
	    $(IC_LIB_OBJS) $(RL_LIBS) -ldl

$(BUILD)/tests/%: $(BUILD)/tobj/tests/%.o $(TEST_UTIL_OBJS) $(TSTATIC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(EXTRA_OBJS) $(TEST_UTIL_OBJS) $(TSTATIC) $(CHECK_LIBS) $(RL_LIBS)

# The comparison of reductions runs over the whole catalogue.
SCEN_TOBJS := $(patsubst %.c,$(BUILD)/tobj/%.o,$(wildcard scenarios/*.c))
$(BUILD)/tests/check_reduction: EXTRA_OBJS = $(SCEN_TOBJS)
$(BUILD)/tests/check_reduction: $(SCEN_TOBJS)
$(BUILD)/tests/check_races: EXTRA_OBJS = $(SCEN_TOBJS)
$(BUILD)/tests/check_races: $(SCEN_TOBJS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(STATIC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,-z,now -o $@ $< $(EXTRA_OBJS) $(STATIC) $(RL_LIBS)

# ---------------------------------------------------- instrumentation
# What racelab-instrument.pc gives: the compilers' ThreadSanitizer
# instrumentation, at compile time only (libracelab is its runtime; a link
# with -fsanitize=thread would pull in the sanitizer's own). clang drops
# the load of a read-modify-write without its option, which gcc refuses:
# racelab-instrument-clang.pc adds it.
INSTRUMENT_CFLAGS       := -fsanitize=thread
INSTRUMENT_CLANG_CFLAGS := -mllvm -tsan-instrument-read-before-write=1
# The compilers the instrumented tests and benchmark are built with: each
# of gcc and clang that is installed.
INST_CCS := $(foreach c,gcc clang,$(if $(shell command -v $(c) 2>/dev/null),$(c)))
INST_WARN = $(RL_WARN) $(if $(filter 1,$(WERROR)),-Werror)

# name, the compiler, source: one object of plain C accesses built with
# the instrumentation of that compiler. INST and INST_ID name the compiler
# in the scenarios and symbols, so that both builds link into one program.
$(BUILD)/inst/%-gcc.o: %.c
	$(call say,CC,$<+tsan/gcc)
	@mkdir -p $(dir $@)
	$(Q)gcc -std=c11 -D_GNU_SOURCE -g -O2 $(INST_WARN) -MMD -MP -Ilib \
	    -DINST='"gcc"' -DINST_ID=gcc $(INSTRUMENT_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/inst/%-clang.o: %.c
	$(call say,CC,$<+tsan/clang)
	@mkdir -p $(dir $@)
	$(Q)clang -std=c11 -D_GNU_SOURCE -g -O2 $(INST_WARN) -MMD -MP -Ilib \
	    -DINST='"clang"' -DINST_ID=clang $(INSTRUMENT_CFLAGS) \
	    $(INSTRUMENT_CLANG_CFLAGS) $(CFLAGS) -c $< -o $@

# The instrumented counters beside the annotated ones of the catalogue,
# for the tests and the benchmark.
INST_TEST_OBJS := $(INST_CCS:%=$(BUILD)/inst/tests/instrumented-%.o)
$(BUILD)/tests/check_instrument: EXTRA_OBJS = $(INST_TEST_OBJS) \
    $(BUILD)/tobj/scenarios/counter.o
$(BUILD)/tests/check_instrument: $(INST_TEST_OBJS) $(BUILD)/tobj/scenarios/counter.o
INST_BENCH_OBJS := $(INST_TEST_OBJS)
$(BUILD)/bench/bench_instrument: EXTRA_OBJS = $(INST_BENCH_OBJS) \
    $(BUILD)/obj/scenarios/counter.o
$(BUILD)/bench/bench_instrument: $(INST_BENCH_OBJS) $(BUILD)/obj/scenarios/counter.o

# The catalogue built a second time without its annotations: RL_LOAD and
# RL_STORE are plain C accesses and the compiler's instrumentation makes
# them schedule points (gcc, -O1 as a test build would be). racelab-plain
# must find what racelab finds (tests/test_plain_catalogue.sh).
PLAIN_CC := $(firstword $(INST_CCS))
PLAIN_SCEN_OBJS := $(patsubst %.c,$(BUILD)/plain/%.o,$(wildcard scenarios/*.c))
$(BUILD)/plain/%.o: %.c
	$(call say,CC,$<+tsan/plain)
	@mkdir -p $(dir $@)
	$(Q)$(PLAIN_CC) -std=c11 -D_GNU_SOURCE -g -O1 $(INST_WARN) -MMD -MP -Ilib \
	    -DRL_PLAIN_ACCESSES $(INSTRUMENT_CFLAGS) \
	    $(if $(filter clang,$(PLAIN_CC)),$(INSTRUMENT_CLANG_CFLAGS)) \
	    $(CFLAGS) -c $< -o $@
$(BUILD)/racelab-plain: $(BUILD)/obj/cli/main.o $(PLAIN_SCEN_OBJS) $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,-z,now -o $@ $(BUILD)/obj/cli/main.o \
	    $(PLAIN_SCEN_OBJS) $(STATIC) $(RL_LIBS)

# ---------------------------------------------------------------- test
test: all $(TEST_BINS) $(BENCH_BINS) $(if $(PLAIN_CC),$(BUILD)/racelab-plain)
	$(Q)BUILD=$(BUILD) SANITIZE=$(SANITIZE) COVERAGE=$(COVERAGE) tests/run-tests.sh $(TEST_BINS) $(TEST_SCRIPTS)

run: all
	@mkdir -p $(BUILD)/report
	$(BUILD)/racelab run --json $(BUILD)/report/results.json \
	    $(if $(wildcard reports/html.c),--html $(BUILD)/report/index.html) \
	    $(if $(wildcard reports/junit.c),--junit $(BUILD)/report/junit.xml)

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 test

# Line and branch coverage of lib/, harness/, reports/ and cli/: the tests and
# the catalogue run with --coverage (forked, spawned and forkserver
# children dump their counts on every exit path), then lcov and genhtml.
# The report is written even when a test fails, and then the target fails.
coverage:
	$(Q)rm -rf build/cov build/coverage
	$(Q)status=0; \
	$(MAKE) --no-print-directory BUILD=build/cov COVERAGE=1 test || status=1; \
	build/cov/racelab run --jobs 2 >build/cov/catalogue.txt 2>&1 || \
	    { status=1; echo "coverage: the catalogue run failed:"; \
	      grep -A2 '^UNEXPECTED' build/cov/catalogue.txt; }; \
	lcov --quiet --capture --directory build/cov --rc lcov_branch_coverage=1 \
	    --output-file build/cov/all.info && \
	lcov --quiet --extract build/cov/all.info '*/lib/*' '*/harness/*' \
	    '*/reports/*' '*/cli/*' \
	    --rc lcov_branch_coverage=1 --output-file build/cov/project.info && \
	genhtml --quiet --branch-coverage --output-directory build/coverage \
	    build/cov/project.info && \
	lcov --summary --rc lcov_branch_coverage=1 build/cov/project.info || status=1; \
	echo "coverage report: build/coverage/index.html"; \
	if [ $$status -ne 0 ]; then echo "coverage: some tests failed"; fi; \
	exit $$status

# The whole catalogue SOAK_ROUNDS times (default 50) under CPU contention;
# prints the number of unexpected verdicts.
soak: all
	$(Q)tests/soak.sh $(BUILD) $(or $(SOAK_ROUNDS),50)

bench: all $(BENCH_BINS)
	$(Q)if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); \
	else for b in $(BENCH_BINS); do $$b || exit 1; done; fi

# ------------------------------------------------------------- install
# GNU-style directories; DESTDIR stages the whole tree elsewhere.
LIBDIR       ?= $(PREFIX)/lib
BINDIR       ?= $(PREFIX)/bin
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# Runtime libraries installed beside libracelab (found there by racelab).
RUNTIME_LIBS := $(NOISE) $(INTERCEPT)
MAN          := $(if $(CLI),$(BUILD)/racelab.1)
# Shell completion, made from the option table by tools/mkcompletion.
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR   ?= $(PREFIX)/share/zsh/site-functions
COMPLETIONS  := $(if $(CLI),$(BUILD)/completion/racelab.bash \
    $(BUILD)/completion/_racelab)
# (test_cli.sh checks them; a prerequisite named here, where it is known)
test: $(COMPLETIONS)

# Every file install makes, so that uninstall removes exactly those.
INSTALLED := $(INCLUDEDIR)/racelab.h $(LIBDIR)/libracelab.a \
    $(LIBDIR)/libracelab.so.0 $(LIBDIR)/libracelab.so \
    $(PKGCONFIGDIR)/racelab.pc $(PKGCONFIGDIR)/racelab-instrument.pc \
    $(PKGCONFIGDIR)/racelab-instrument-clang.pc $(addprefix $(LIBDIR)/,$(notdir $(RUNTIME_LIBS))) \
    $(if $(CLI),$(BINDIR)/racelab $(MANDIR)/man1/racelab.1 \
    $(BASHCOMPDIR)/racelab $(ZSHCOMPDIR)/_racelab)

# Writes $@ from $@.tmp only when the content differs, so that what
# depends on a generated file is rebuilt only when its value changes.
define update_if_changed
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
endef
c_string = "$(subst ",\",$(subst \,\\,$(1)))"
# LIBDIR relative to BINDIR, when both are under PREFIX: the relative
# path an installation keeps when it is moved or staged with DESTDIR.
LIBDIR_REL := $(if $(and $(filter $(PREFIX)/bin,$(BINDIR)),$(filter $(PREFIX)/%,$(LIBDIR))),../$(patsubst $(PREFIX)/%,%,$(LIBDIR)))

# LIBDIR is compiled into the library (a small generated object, not a
# flag of harness/extspawn.c, so that a new LIBDIR relinks but compiles
# nothing and coverage counts survive), for stress --noise to find
# libracelab-noise.so from an installed racelab or a user's program.
INSTDIRS := $(BUILD)/obj/installdirs.o
$(BUILD)/gen/installdirs.c: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' \
	  '/* Generated by the Makefile: where make install puts the runtime' \
	  ' * libraries, for harness/extspawn.c. */' \
	  'const char rl__libdir[] = $(call c_string,$(LIBDIR));' \
	  'const char rl__libdir_rel[] = $(call c_string,$(LIBDIR_REL));' >$@.tmp
	$(update_if_changed)

$(INSTDIRS): $(BUILD)/gen/installdirs.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -fPIC -fvisibility=hidden $(RL_WARN) $(if $(filter 1,$(WERROR)),-Werror) \
	    $(CFLAGS) -c $< -o $@

$(STATIC) $(SHARED): $(INSTDIRS)

# Generated for the PREFIX, LIBDIR and INCLUDEDIR of this make, never
# left from an earlier one. libunwind comes through its own pkg-config
# modules (they know what its static libraries need), the rest of
# RL_LIBS as they are.
$(BUILD)/racelab.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' \
	  'libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))' \
	  'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))' '' \
	  'Name: racelab' \
	  'Description: find, reproduce and explain races between processes' \
	  'Version: $(shell sed -n 's/^#define RL_VERSION "\(.*\)"/\1/p' lib/racelab.h)' \
	  'Requires.private: libunwind-ptrace libunwind-generic libunwind' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lracelab' \
	  'Libs.private: $(filter-out -lunwind%,$(RL_LIBS))' >$@.tmp
	$(update_if_changed)

# Compile flags for plain C accesses to shared memory as schedule points;
# the link is racelab's own. clang needs one more option, which gcc
# refuses: a module of its own.
$(BUILD)/racelab-instrument.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' \
	  'libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))' '' \
	  'Name: racelab-instrument' \
	  'Description: plain C accesses to shared memory as racelab schedule points (link without -fsanitize=thread)' \
	  'Version: $(shell sed -n 's/^#define RL_VERSION "\(.*\)"/\1/p' lib/racelab.h)' \
	  'Requires: racelab' \
	  'Cflags: $(INSTRUMENT_CFLAGS)' 'Libs:' >$@.tmp
	$(update_if_changed)

$(BUILD)/racelab-instrument-clang.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' '' \
	  'Name: racelab-instrument-clang' \
	  'Description: racelab-instrument for clang, which needs the loads of read-modify-writes asked for' \
	  'Version: $(shell sed -n 's/^#define RL_VERSION "\(.*\)"/\1/p' lib/racelab.h)' \
	  'Requires: racelab-instrument' \
	  'Cflags: $(INSTRUMENT_CLANG_CFLAGS)' 'Libs:' >$@.tmp
	$(update_if_changed)

# racelab(1) from the command and option tables themselves.
$(BUILD)/tools/mkman: $(BUILD)/obj/tools/mkman.o $(STATIC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(RL_LIBS)

$(BUILD)/racelab.1: $(BUILD)/tools/mkman
	$(call say,GEN,$@)
	$(Q)$< >$@.tmp && mv -f $@.tmp $@

man: $(MAN)

# bash and zsh completion from the command and option tables themselves.
$(BUILD)/tools/mkcompletion: $(BUILD)/obj/tools/mkcompletion.o $(STATIC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(RL_LIBS)

$(BUILD)/completion/racelab.bash: $(BUILD)/tools/mkcompletion
	$(call say,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)$< bash >$@.tmp && mv -f $@.tmp $@

$(BUILD)/completion/_racelab: $(BUILD)/tools/mkcompletion
	$(call say,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)$< zsh >$@.tmp && mv -f $@.tmp $@

completion: $(COMPLETIONS)

install: all $(BUILD)/racelab.pc $(BUILD)/racelab-instrument.pc \
    $(BUILD)/racelab-instrument-clang.pc $(MAN) $(COMPLETIONS)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) \
	    $(if $(CLI),$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	        $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR))
	install -m 644 lib/racelab.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libracelab.so.0
	ln -sf libracelab.so.0 $(DESTDIR)$(LIBDIR)/libracelab.so
	$(if $(RUNTIME_LIBS),install -m 755 $(RUNTIME_LIBS) $(DESTDIR)$(LIBDIR)/)
	install -m 644 $(BUILD)/racelab.pc $(BUILD)/racelab-instrument.pc \
	    $(BUILD)/racelab-instrument-clang.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(if $(CLI),install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/)
	$(if $(CLI),install -m 644 $(MAN) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(CLI),install -m 644 $(BUILD)/completion/racelab.bash \
	    $(DESTDIR)$(BASHCOMPDIR)/racelab)
	$(if $(CLI),install -m 644 $(BUILD)/completion/_racelab \
	    $(DESTDIR)$(ZSHCOMPDIR)/_racelab)

# Directories are left: they may hold other packages' files.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

.PHONY: FORCE man completion
FORCE:

# ---------------------------------------------------------------- misc
format:
	clang-format -i $(wildcard lib/*.[ch] harness/*.[ch] reports/*.[ch] \
	    cli/*.[ch] scenarios/*.[ch] tests/*.[ch] bench/*.[ch])

deps:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)

clean:
	rm -rf build

help:
	@echo 'make            build/libracelab.a, build/libracelab.so, build/racelab'
	@echo 'make test       build and run every test (WERROR=1 adds -Werror)'
	@echo 'make asan       the tests under ASan and UBSan (build/asan)'
	@echo 'make coverage   line and branch coverage into build/coverage'
	@echo 'make bench      the benchmarks'
	@echo 'make soak       the catalogue 50 times under CPU contention (SOAK_ROUNDS=N)'
	@echo 'make install    PREFIX=/usr/local DESTDIR= (also LIBDIR, BINDIR,'
	@echo '                INCLUDEDIR, MANDIR, PKGCONFIGDIR, BASHCOMPDIR,'
	@echo '                ZSHCOMPDIR); make uninstall'
	@echo 'make format     clang-format every source file'
	@echo 'make deps       apt-get install $(DEB_PACKAGES)'
	@echo 'V=1             show full command lines'

-include $(LIB_OBJS:.o=.d) $(TLIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) \
    $(TEST_SRCS:%.c=$(BUILD)/tobj/%.d) $(BENCH_SRCS:%.c=$(BUILD)/obj/%.d) \
    $(INST_TEST_OBJS:.o=.d) $(BUILD)/obj/tools/mkcompletion.d \
    $(BUILD)/obj/tools/mkman.d $(IC_OBJS:.o=.d)
