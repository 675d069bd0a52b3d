"""pool.py: a multiprocessing Pool of two workers maps a function over a
few items. The Pool's own threads in the parent hand out the tasks and
collect the results. Passes on every schedule."""
import multiprocessing as mp
import sys


def square(x):
    return x * x


def main():
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        got = pool.map(square, range(4))
    return 0 if got == [0, 1, 4, 9] else 1


if __name__ == "__main__":
    sys.exit(main())
