/* common/conf_int.h: placeholder while the module is being written; replaced before the first commit. */
