"""two_producers_fixed.py: two_producers.py with a consumer that sorts
what it received, so either order of the producers is right: passes on
every schedule."""
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
    got = sorted([r.recv(), r.recv()])
    for p in producers:
        p.join()
    if got != [1, 2]:
        print("received %r" % got, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
