/* common/conf_params.c: placeholder while the module is being written; replaced before the first commit. */
