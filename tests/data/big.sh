#!/bin/sh
# big.sh: prints about 230 KB (the numbers 1 to 40000), then fails.
seq 1 40000
exit 1
