#!/bin/sh
# not-executable.sh: a script without the execute bit, which cannot run.
exit 0
