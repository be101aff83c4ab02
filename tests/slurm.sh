#!/usr/bin/env bash
# Launching under Slurm (issue 7): srun --mpi=pmix starts the ranks, Open MPI finds the others
# through PMIx, and training matches one process; srun without PMIx (--mpi=none, or pmi2, with
# which Debian's Open MPI cannot find the other ranks) is refused with what to do (exit 2).
# Needs a running Slurm (slurmctld and slurmd with a node up, munge): skips (77) with the
# reason otherwise, as on CI machines. docs/distributed.md says how this machine ran one.
# usage: slurm.sh FTRUN MODELS_DIR WORK_DIR PYTHON
set -uo pipefail
[ $# -ge 4 ] || { echo "usage: $0 FTRUN MODELS_DIR WORK_DIR PYTHON" >&2; exit 2; }
ftrun=$1 models=$2 work=$3 py=$4
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v srun >/dev/null || ! timeout 10 sinfo -h -o %T 2>/dev/null | grep -Eq 'idle|mixed|allocated'; then
	echo "SKIP: no running Slurm here (srun, and sinfo showing a node up)"
	exit 77
fi
if [ "${FT_MPI:-1}" = 0 ]; then
	echo "SKIP: this ftrun was built without MPI"
	exit 77
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMP_NUM_THREADS=1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
npass=0 nfail=0
check() { # name log command...
	local name=$1 log=$2
	shift 2
	if "$@"; then echo "PASS $name"; npass=$((npass + 1)); else
		echo "FAIL $name"; nfail=$((nfail + 1)); sed 's/^/    | /' "$log" | tail -6; fi
}
m=$models/resnet18_fmnist.onnx
# one SGD step with lr 1 and no momentum: the parameters become p - grad (tests/dist.sh syncbn)
A=(train "$m" --data synthetic --lr 1 --momentum 0 --sched none --steps 1 --no-eval --threads 1)
"$ftrun" "${A[@]}" -b 8 --output-dir one -o one.onnx >one.log 2>&1
check "1 process x 8 (exit 0)" one.log test $? = 0
FT_DIST_TRACE=1 timeout 300 srun -n 2 --mpi=pmix "$ftrun" "${A[@]}" -b 4 --sync-bn --output-dir two -o two.onnx \
	>two.log 2>&1
check "srun -n 2 --mpi=pmix (exit 0)" two.log test $? = 0
check "the start line names 2 ranks" two.log grep -q 'x 2 ranks (srun, rank 0 on this line)' two.log
check "local ranks 0 and 1 (the GPU each would take)" two.log \
	bash -c "grep -q 'rank 0 of 2, local rank 0' two.log && grep -q 'rank 1 of 2, local rank 1' two.log"
"$py" "$here/compare_params.py" two.onnx one.onnx 1e-5 --rel >cmp.log 2>&1
check "2 ranks x 4 under srun with --sync-bn equal 1 process x 8 within 1e-5 (relative L2)" cmp.log test $? = 0
tail -1 cmp.log | sed 's/^/    /'
for how in "--mpi=none" "--mpi=pmi2"; do
	timeout 120 srun -n 2 $how "$ftrun" "${A[@]}" -b 4 --output-dir bad >bad.log 2>&1
	rc=$?
	check "srun -n 2 $how refused (exit 2)" bad.log test $rc = 2
	check "  its message says srun --mpi=pmix" bad.log grep -q 'launch with srun --mpi=pmix' bad.log
done
echo "slurm: $npass passed, $nfail failed"
# the work folder stays only when something failed (the disk of a CI machine is finite)
[ $nfail = 0 ] && cd / && rm -rf "$work"
