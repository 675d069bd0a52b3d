# conn_poll.py: multiprocessing's Connection.poll(5) on a pipe whose
# writer, a child process, sends only after a sleep of a second; then
# Process.join(5), which polls the child's sentinel pipe.
import multiprocessing as mp
import sys
import time


def child(w):
    time.sleep(1)
    w.send("hello")
    w.close()


if __name__ == "__main__":
    mp.set_start_method("fork")
    r, w = mp.Pipe(duplex=False)
    p = mp.Process(target=child, args=(w,))
    p.start()
    w.close()
    ok = r.poll(5) and r.recv() == "hello"
    p.join(5)
    ok = ok and p.exitcode == 0
    if not ok:
        print("conn_poll: nothing arrived in time", file=sys.stderr)
    sys.exit(0 if ok else 1)
