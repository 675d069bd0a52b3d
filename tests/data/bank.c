/* bank.c: a user's own program built with libracelab: one scenario of its
 * own and rl_main as its command line. test_cli.sh builds it to check that
 * the program names itself and that rl_main leaves its locale alone. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "racelab.h"

/* Withdraws 30 from the shared balance without a lock: check, then
 * debit. */
static int withdraw(void *arg)
{
    long *balance = arg;
    if (RL_LOAD(*balance) >= 30)
        RL_STORE(*balance, RL_LOAD(*balance) - 30);
    return 0;
}

RL_SCENARIO(bank_racy, "bank.racy",
            .summary = "two withdrawals of 30 from 50 without a lock",
            .expect = RL_EXPECT_BUG)
{
    long *balance = rl_shared_alloc(sizeof *balance);
    *balance = 50;
    rl_process *a, *b;
    rl_process_start(&a, withdraw, balance, NULL);
    rl_process_start(&b, withdraw, balance, NULL);
    rl_process_join(a, -1);
    rl_process_join(b, -1);
    rl_process_free(a);
    rl_process_free(b);
    rl_check(*balance >= 0, "balance is %ld", *balance);
}

/* With BANK_LOCALE set, the numeric locale is that one before rl_main,
 * as a program that calls setlocale would have it; after rl_main it must
 * be the same, and say so on stderr (exit 5 when it is not). */
int main(int argc, char **argv)
{
    const char *want = getenv("BANK_LOCALE");
    if (want && !setlocale(LC_NUMERIC, want)) {
        fprintf(stderr, "bank: no locale %s\n", want);
        return 4;
    }
    char before[128];
    snprintf(before, sizeof before, "%s", setlocale(LC_NUMERIC, NULL));
    int code = rl_main(argc, argv);
    const char *after = setlocale(LC_NUMERIC, NULL);
    char num[32];
    snprintf(num, sizeof num, "%.1f", 1.5);
    fprintf(stderr, "bank: after rl_main LC_NUMERIC is %s, 1.5 prints as %s\n",
            after, num);
    if (strcmp(before, after) != 0)
        return 5;
    return code;
}
