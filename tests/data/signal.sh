#!/bin/sh
# signal.sh: dies by SIGSEGV.
echo "about to crash"
kill -SEGV $$
