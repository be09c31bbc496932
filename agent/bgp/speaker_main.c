/* edgelb-bgp: the BGP speaker process. edgelbd starts it with the channel on descriptor 3;
 * it is not meant to be run by hand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bgp/ipc.h"
#include "bgp/speaker.h"
#include "lib/log.h"

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"bgp-port", required_argument, NULL, 'p'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"chroot", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	enum log_level lvl;
	const char *root = NULL;
	long port = 179;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr,
					"edgelb-bgp: --bgp-port: \"%s\": not a port (allowed: "
					"1..65535)\n",
					optarg);
				return 2;
			}
			break;
		case 'l':
			if (log_parse_level(optarg, &lvl) < 0) {
				fprintf(stderr,
					"edgelb-bgp: --log-level: \"%s\": unknown (allowed: debug, "
					"info, warn, error)\n",
					optarg);
				return 2;
			}
			log_set_level(lvl);
			break;
		case 'r':
			root = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: edgelb-bgp [--bgp-port P] [--log-level L] [--chroot "
				"DIR] (started by edgelbd)\n");
			return 2;
		}
	}
	return bgp_speaker_run(BGP_IPC_FD, (uint16_t)port, root);
}
