"""Grade a course on a Slurm cluster: Dask workers as Slurm jobs via dask-jobqueue.

Run this on the login node (or any node that can reach the compute nodes), inside the Python
environment that has gradebox installed — the same environment, at the same path, must exist
on the compute nodes (a shared home or a module)::

    pip install dask-jobqueue
    python docs/slurm_example.py COURSE_DIR SUBMISSIONS_DIR OUT_DIR --jobs 8

It starts a Dask scheduler in this process, submits ``--jobs`` worker jobs shaped by the
course's ``[sandbox]`` (GPU jobs when ``gpus`` > 0), grades the batch on them, and cancels the
jobs at the end.
Running it again with the same OUT_DIR resumes: finished runs are not run again.
Every site differs: adjust ``PARTITIONS``, ``ACCOUNT`` and the job sizes below.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ACCOUNT = "ml-course"                             # sbatch -A
PARTITIONS = {"gpu": "gpu", "cpu": "compute"}     # sbatch -p
WALLTIME = "08:00:00"                             # each worker job; longer than the batch

# On every worker, before ``dask worker`` starts: the sandbox needs no daemon with bubblewrap.
# Slurm exports the *host* indices of the job's GPUs in SLURM_JOB_GPUS, while
# CUDA_VISIBLE_DEVICES may be renumbered from 0 under ConstrainDevices; the sandbox binds
# /dev/nvidia<N> by host index, so hand the worker SLURM_JOB_GPUS.
# (Without it, the worker falls back to CUDA_VISIBLE_DEVICES, then to the devices it finds.)
PROLOGUE = ["export GRADER_STAGING_DIR=${TMPDIR:-/tmp}/gradebox-data"]  # node-local staged data
GPU_PROLOGUE = [*PROLOGUE,
                'if [ -n "$SLURM_JOB_GPUS" ]; then export GRADER_GPU_DEVICES="$SLURM_JOB_GPUS"; fi']


def make_cluster(gpus_per_run: int, sandbox_cpus: float, jobs: int):
    """A ``SLURMCluster`` whose jobs fit the course's runs; its scheduler runs in this process.

    A GPU course gets one GPU run per job (``--gres=gpu:k`` and the worker's ``GPU=k``
    resource, so Dask never sends it two at once); a CPU course gets four sandboxes per job.
    """
    import math

    import dask
    from dask_jobqueue import SLURMCluster

    # the scheduler lives in this process: retry a run once after its worker died
    dask.config.set({"distributed.scheduler.allowed-failures": 1})
    cores = math.ceil(sandbox_cpus)
    if gpus_per_run:
        cluster = SLURMCluster(
            queue=PARTITIONS["gpu"], account=ACCOUNT, walltime=WALLTIME,
            cores=cores + 1, processes=1, memory="24GB",  # the run's limit plus headroom
            job_extra_directives=[f"--gres=gpu:{gpus_per_run}"],
            worker_extra_args=["--nthreads", "1", "--resources", f"GPU={gpus_per_run}"],
            job_script_prologue=GPU_PROLOGUE,
        )
    else:
        cluster = SLURMCluster(
            queue=PARTITIONS["cpu"], account=ACCOUNT, walltime=WALLTIME,
            cores=4 * cores, processes=1, memory="64GB",
            worker_extra_args=["--nthreads", "4"],  # four sandboxes of `cores` cores
            job_script_prologue=PROLOGUE,
        )
    print(cluster.job_script())  # what sbatch receives: check it once per site
    cluster.scale(jobs=jobs)
    return cluster


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("course", type=Path)
    ap.add_argument("submissions", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--jobs", type=int, default=4, help="Slurm jobs running Dask workers")
    args = ap.parse_args()

    from grader.batch import BatchOptions, run_batch
    from grader.course import load_course
    from grader.errors import GraderError

    try:
        course = load_course(args.course)
    except GraderError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    cluster = make_cluster(course.sandbox.gpus, course.sandbox.cpus, args.jobs)
    print(f"scheduler: {cluster.scheduler_address}; dashboard: {cluster.dashboard_link}")
    try:
        summary = run_batch(course, args.submissions, args.out,
                            BatchOptions(executor="dask", scheduler=cluster.scheduler_address))
    except GraderError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    finally:
        cluster.close()  # scancel the worker jobs
    print(summary.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
