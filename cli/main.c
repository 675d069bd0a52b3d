/* main.c: the racelab program: the command line over the built-in
 * catalogue of scenarios. */
#include "racelab.h"

int main(int argc, char **argv)
{
    return rl_main(argc, argv);
}
