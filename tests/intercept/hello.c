/* hello.c: the smallest program, built static to be refused. */
#include <stdio.h>

int main(void)
{
    puts("hello");
    return 0;
}
