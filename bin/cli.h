/* cli.h - shared by the tools (being written) */
#ifndef PTD_CLI_H
#define PTD_CLI_H
#endif
