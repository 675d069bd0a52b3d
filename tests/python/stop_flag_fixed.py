"""stop_flag_fixed.py: stop_flag.py with the stop signal in a
multiprocessing Event, shared between the parent and its producer, which
sees it set and stops: passes on every schedule."""
import multiprocessing as mp
import sys
import time


def produce(stop, w):
    items = []
    while not stop.is_set():
        items.append(len(items))
        time.sleep(0.001)
    w.send(len(items))


def main():
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    r, w = ctx.Pipe(duplex=False)
    producer = ctx.Process(target=produce, args=(stop, w))
    producer.start()
    w.close()
    time.sleep(0.01)
    stop.set()
    producer.join()
    n = r.recv()
    return 0 if n >= 0 and producer.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
