"""two_producers.py: two producers send one message each on one pipe and
the parent, their consumer, takes for granted that producer 1's comes
first. Some schedules run producer 2 first: the parent exits with status
1 (two_producers_fixed.py accepts either order)."""
import multiprocessing as mp
import sys


def produce(w, n):
    w.send(n)


def main():
    ctx = mp.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    producers = [ctx.Process(target=produce, args=(w, n)) for n in (1, 2)]
    for p in producers:
        p.start()
    w.close()
    got = [r.recv(), r.recv()]
    for p in producers:
        p.join()
    if got[0] != 1:
        print("producer %d came first" % got[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
