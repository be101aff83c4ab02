/* cli_pack.c - `ftrun pack DATA OUT`: a dataset as decoded uint8 records (runtime/pack.h). */
#include <string.h>

#include "cli.h"
#include "pack.h"

int ft_cmd_pack(const ft_cli *c)
{
	if (!c->out_file)
		return ft_cli_bad_usage("pack needs DATA and OUT (pack %s OUT.ftpk)", c->model);
	int rc = ft_cli_check_output(c->out_file);
	if (rc)
		return rc;
	ft_pack_options opt = { .size = (int)c->pack_size, .channels = (int)c->pack_channels,
				.workers = (int)c->workers, .skip_bad = c->skip_bad };
	ft_status st = ft_pack_write(c->model, c->out_file, &opt);
	return st ? ft_cli_fail(st) : 0;
}
