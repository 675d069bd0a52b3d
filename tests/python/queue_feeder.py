"""queue_feeder.py: a producer puts one large item on a Queue and the
parent joins the producer before it takes the item. The Queue's feeder
thread in the producer writes the item into a pipe that fills up, and the
producer does not end before its feeder thread has written everything: a
deadlock on every schedule (queue_feeder_fixed.py takes the item first)."""
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
    producer.join()  # q.get() belongs before this
    item = q.get()
    return 0 if len(item) == SIZE and producer.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
