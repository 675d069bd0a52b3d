"""event.py: a child waits on a multiprocessing Event until its parent has
put its work in a shared Value and set the Event; the child sends back
what it found. Passes on every schedule."""
import multiprocessing as mp
import sys


def wait_for_work(ready, work, w):
    ready.wait()
    w.send(work.value * 2)


def main():
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    work = ctx.Value("i", 0)
    r, w = ctx.Pipe(duplex=False)
    child = ctx.Process(target=wait_for_work, args=(ready, work, w))
    child.start()
    w.close()
    work.value = 21
    ready.set()
    answer = r.recv()
    child.join()
    return 0 if answer == 42 and child.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
