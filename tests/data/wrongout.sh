#!/bin/sh
# wrongout.sh: prints hello, except goodbye on every fourth run.
if [ $((RACELAB_RUN % 4)) -eq 0 ]; then
    echo goodbye
else
    echo hello
fi
echo "a note on stderr" >&2
