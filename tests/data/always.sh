#!/bin/sh
# always.sh: always fails with exit status 3.
echo "always failing"
exit 3
