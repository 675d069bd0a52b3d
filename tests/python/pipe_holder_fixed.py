"""pipe_holder_fixed.py: pipe_holder.py with the parent's write end closed
before it joins its consumer, which then sees end of file: passes on
every schedule."""
import multiprocessing as mp
import sys


def consume(r, w):
    w.close()
    n = 0
    while True:
        try:
            r.recv()
        except EOFError:
            break
        n += 1
    sys.exit(0 if n == 3 else 1)


def main():
    ctx = mp.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    consumer = ctx.Process(target=consume, args=(r, w))
    consumer.start()
    r.close()
    for i in range(3):
        w.send(i)
    w.close()
    consumer.join()
    return consumer.exitcode


if __name__ == "__main__":
    sys.exit(main())
