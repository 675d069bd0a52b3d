/* html.h: the parts of the HTML report that live in files of their own
 * (html_timeline.c); internal to the HTML writer. */
#ifndef RL_HTML_H
#define RL_HTML_H

#include <stdio.h>

#include "../harness/results.h"

/* The style sheet of the timeline, for the page's <style>. */
extern const char rl__html_timeline_css[];

/* Writes the swimlane timeline of r's failing interleaving (heading,
 * legend and the lanes), nothing when it has no steps. Returns 0, or -1
 * when out of memory (what was written so far stays). */
int rl__html_timeline(FILE *f, const rl__result *r);

#endif /* RL_HTML_H */
