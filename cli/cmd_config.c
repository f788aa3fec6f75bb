/* cli/cmd_config.c: placeholder while the module is being written; replaced before the first commit. */
