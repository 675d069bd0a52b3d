#!/bin/sh
# hang.sh: starts a background sleep, appends "SHELLPID SLEEPPID" to the
# file named by $1, and hangs.
sleep 30 &
echo "$$ $!" >>"$1"
sleep 30
