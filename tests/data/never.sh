#!/bin/sh
# never.sh: always succeeds and prints hello.
echo hello
