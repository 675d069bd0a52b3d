#!/bin/sh
# noise.sh: succeeds only when the noise interposer is loaded into this
# shell and its settings are in the environment; prints them, then the
# result of a pipeline, which must not be disturbed by the noise.
grep -q libracelab-noise.so /proc/$$/maps || { echo "not preloaded"; exit 1; }
[ -n "$RACELAB_NOISE" ] && [ -n "$RACELAB_NOISE_SEED" ] || exit 2
echo "preload=$LD_PRELOAD noise=$RACELAB_NOISE seed=$RACELAB_NOISE_SEED"
seq 1 300 | sort -rn | tail -n 1
