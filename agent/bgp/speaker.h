/* The BGP speaker process: runs the sessions the agent sends over the channel on fd (ipc.h)
 * until the agent says BGP_IPC_EXIT (Cease to every peer) or goes away; once it listens, it
 * chroots to root (an empty directory; NULL: no chroot) and drops to nobody. Returns the exit
 * status. */
#ifndef EDGELB_BGP_SPEAKER_H
#define EDGELB_BGP_SPEAKER_H

#include <stdint.h>

int bgp_speaker_run(int fd, uint16_t port, const char *root);

#endif
