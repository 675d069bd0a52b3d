"""queue_feeder_fixed.py: queue_feeder.py with the item taken off the
Queue before the parent joins the producer, whose feeder thread can then
write all of it: passes on every schedule."""
import multiprocessing as mp
import sys

SIZE = 1 << 20


def produce(q):
    q.put(b"x" * SIZE)


def main():
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    producer = ctx.Process(target=produce, args=(q,))
    producer.start()
    item = q.get()
    producer.join()
    return 0 if len(item) == SIZE and producer.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
