/* thread_holder.c: a thread reads a pipe until end of file while the main
 * thread, which still holds the write end, joins it: neither can go on.
 * FIXED closes the write end before the join. */
#include <pthread.h>
#include <unistd.h>

static int fds[2];

static void *reader(void *arg)
{
    (void)arg;
    char buf[64];
    while (read(fds[0], buf, sizeof buf) > 0)
        ;
    return NULL;
}

int main(void)
{
    if (pipe(fds) < 0)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, reader, NULL) != 0)
        return 2;
    pthread_setname_np(t, "reader");
    if (write(fds[1], "hello", 5) != 5)
        return 2;
#ifdef FIXED
    close(fds[1]);
#endif
    pthread_join(t, NULL);
    return 0;
}
