/* SPDX-License-Identifier: MIT */
/* POSIX half of eca_service: no service manager to talk to (systemd runs the daemon as is). */
#include "eca_service.h"

int
eca_service_start(const char *agent, int *argc, char ***argv)
{
    (void)agent;
    (void)argc;
    (void)argv;
    return -1; /* not a service: "service" is then an ordinary (unknown) argument */
}
