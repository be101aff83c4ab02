# TEMPORARY (removed before the issue closes): weak stubs for every function ops.h and grad.h name
import re
s=open('runtime/ops.h').read().replace('\\\n',' ')
s=re.sub(r'\s+',' ',s)
fns=set()
for m in re.finditer(r'X\((\w+), "(\w*)", \d+, \d+, \d+, (\w+), (\w+), (\w+)\)', s):
    for f in m.groups()[2:]:
        if f!='ft_import_none': fns.add(f)
out=['/* TEMPORARY weak stubs while families land */','#include "grad.h"']
for f in sorted(fns):
    if f.startswith('ft_cpu'):
        out.append(f'__attribute__((weak)) ft_status {f}(const ft_graph *g, ft_node *n) {{ return ft_node_error(g, n, FT_EUNSUPPORTED, "{f} not implemented yet"); }}')
    else:
        out.append(f'__attribute__((weak)) ft_status {f}(ft_graph *g, ft_node *n) {{ return ft_node_error(g, n, FT_EUNSUPPORTED, "{f} not implemented yet"); }}')
g=open('runtime/grad.h').read().replace('\\\n',' ')
for name in re.findall(r'X\((\w+)\)', g[g.index('FT_GRAD_RULES(X)'):]):
    out.append(f'__attribute__((weak)) ft_status ft_grad_{name}(ft_autodiff *ad, int i) {{ return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_{name} not implemented yet"); }}')
open('runtime/zz_stubs.c','w').write('\n'.join(out)+'\n')
