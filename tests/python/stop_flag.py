"""stop_flag.py: the parent stops its producer by setting a plain global,
but the producer is a forked process with its own copy of it: the
producer never stops and the parent waits for it forever. racelab sees
the producer pass schedule point after schedule point without the run
ending: LIVELOCK (stop_flag_fixed.py stops it with a multiprocessing
Event, which both processes share)."""
import multiprocessing as mp
import sys
import time

stop = False


def produce(w):
    items = []
    while not stop:  # the parent's store never reaches this copy
        items.append(len(items))
        time.sleep(0.001)
    w.send(len(items))


def main():
    global stop
    ctx = mp.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    producer = ctx.Process(target=produce, args=(w,))
    producer.start()
    w.close()
    time.sleep(0.01)
    stop = True
    producer.join()
    n = r.recv()
    return 0 if n >= 0 and producer.exitcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
