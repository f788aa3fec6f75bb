/* cli/cmd_check.c: placeholder while the module is being written; replaced before the first commit. */
