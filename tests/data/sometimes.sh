#!/bin/sh
# sometimes.sh: fails (exit 1) on every third run, by its run number.
echo "run $RACELAB_RUN"
if [ $((RACELAB_RUN % 3)) -eq 0 ]; then
    echo "oops in run $RACELAB_RUN" >&2
    exit 1
fi
exit 0
