/* cli/cmd_enable.c: placeholder while the module is being written; replaced before the first commit. */
