/* command.c: an unmodified program as a scenario (racelab run -- COMMAND):
 * its root actor execs the command with libracelab-intercept.so preloaded,
 * which makes the program's fork, wait, pipe, semaphore, mutex and sleep
 * calls schedule points. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define LIB_NAME "libracelab-intercept.so"

/* The one command of this process: its path, its arguments, the library,
 * the scenario's name and the scenario (the job workers inherit it). */
static char cmd_path[PATH_MAX];
static char **cmd_argv;
static char lib_path[PATH_MAX];
static char cmd_name[PATH_MAX + 8];
static rl_scenario cmd_scenario;

/* Whether the ELF file at path asks for a program interpreter (the
 * dynamic loader, which honours LD_PRELOAD): 1 yes, 0 no (a static
 * binary), -1 not an ELF file (a script: its interpreter is checked by
 * nobody, as exec finds it). */
static int elf_dynamic(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    Elf64_Ehdr h;
    Elf32_Ehdr h32;
    int result = -1;
    if (pread(fd, &h, sizeof h, 0) >= (ssize_t)sizeof h32 &&
        memcmp(h.e_ident, ELFMAG, SELFMAG) == 0) {
        result = 0;
        memcpy(&h32, &h, sizeof h32);
        int wide = h.e_ident[EI_CLASS] == ELFCLASS64;
        long off = wide ? (long)h.e_phoff : (long)h32.e_phoff;
        int num = wide ? h.e_phnum : h32.e_phnum;
        size_t size = wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
        for (int i = 0; i < num && result == 0; i++) {
            /* p_type comes first in both classes. */
            uint32_t type;
            if (pread(fd, &type, sizeof type, off + (long)i * (long)size) !=
                (ssize_t)sizeof type)
                break;
            if (type == PT_INTERP)
                result = 1;
        }
    }
    close(fd);
    return result;
}

/* The root actor's body: execs the command with the library preloaded and
 * the arena handed over. Never returns: an exec that fails is an ERROR. */
static void command_body(void)
{
    rl__sched *s = rl__sched_get();
    char *base = rl__arena_base();
    /* Without close-on-exec, and out of the way of the program's own
     * descriptors. */
    int fd = fcntl(rl__arena_fd(), F_DUPFD, 100);
    if (!s || !base || fd < 0) {
        rl__sched_verdict(RL_ERROR, "cannot hand the arena to %s: %s", cmd_path,
                          strerror(errno));
        rl__sched_halt();
    }
    char var[128];
    snprintf(var, sizeof var, "%d:%lx:%lx:%lx", fd, (unsigned long)base,
             (unsigned long)rl__arena_size(),
             (unsigned long)((char *)s - base));
    const char *pre = getenv("LD_PRELOAD");
    size_t len = strlen(lib_path) + (pre ? strlen(pre) : 0) + 2;
    char *preload = malloc(len);
    if (preload) {
        snprintf(preload, len, "%s%s%s", lib_path, pre && *pre ? ":" : "",
                 pre ? pre : "");
        setenv("LD_PRELOAD", preload, 1);
    }
    setenv(RL__INTERCEPT_ENV, var, 1);
    execv(cmd_path, cmd_argv);
    rl__sched_verdict(RL_ERROR, "cannot run %s: %s", cmd_path, strerror(errno));
    rl__sched_halt();
}

int rl__command_scenario(char **argv, int expect_verdict, rl_scenario **out)
{
    *out = NULL;
    if (!argv || !argv[0])
        return rl__fail(-EINVAL, "no COMMAND after --");
    int err = rl__find_program(argv[0], cmd_path, sizeof cmd_path);
    if (err < 0)
        return err;
    if (elf_dynamic(cmd_path) == 0)
        return rl__fail(-EINVAL,
                        "%s is statically linked: racelab cannot interpose "
                        "its calls (only dynamically linked programs run "
                        "under the scheduler; racelab stress runs any)",
                        cmd_path);
    err = rl__find_runtime_lib(LIB_NAME, getenv("RACELAB_INTERCEPT_LIB"),
                               lib_path);
    if (err < 0)
        return err;
    cmd_argv = argv;
    snprintf(cmd_name, sizeof cmd_name, "cmd:%s", argv[0]);
    memset(&cmd_scenario, 0, sizeof cmd_scenario);
    cmd_scenario.name = cmd_name;
    cmd_scenario.summary = "an unmodified program under the scheduler";
    cmd_scenario.body = command_body;
    cmd_scenario.file = cmd_path;
    if (expect_verdict != RL_PASS) {
        cmd_scenario.expect = RL_EXPECT_BUG;
        cmd_scenario.expect_verdict = expect_verdict;
    }
    rl_register(&cmd_scenario);
    *out = &cmd_scenario;
    return 0;
}
