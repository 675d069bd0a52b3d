"""lock_counter.py: two workers add to a shared multiprocessing Value,
each read-modify-write under the Value's lock: the total is right on
every schedule. With the argument "unlocked" they skip the lock, and a
pause between the read and the write (a sleep, which racelab runs as a
yield) lets the other worker's update be lost: exit status 1."""
import multiprocessing as mp
import sys
import time

ROUNDS = 2


def work(counter, locked):
    for _ in range(ROUNDS):
        if locked:
            with counter.get_lock():
                seen = counter.value
                time.sleep(0.001)
                counter.value = seen + 1
        else:
            seen = counter.value
            time.sleep(0.001)
            counter.value = seen + 1


def main():
    locked = sys.argv[1:] != ["unlocked"]
    ctx = mp.get_context("fork")
    counter = ctx.Value("i", 0)
    workers = [ctx.Process(target=work, args=(counter, locked))
               for _ in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    if counter.value != 2 * ROUNDS:
        print("lost update: %d, not %d" % (counter.value, 2 * ROUNDS),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
