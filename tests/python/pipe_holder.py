"""pipe_holder.py: the parent joins its consumer while it still holds the
write end of their pipe, so the consumer never sees end of file: a
deadlock on every schedule (pipe_holder_fixed.py closes it first)."""
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
    consumer.join()  # w.close() belongs before this
    return consumer.exitcode


if __name__ == "__main__":
    sys.exit(main())
