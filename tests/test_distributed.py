"""Batch grading on a Dask cluster gives exactly the local pool's results."""
import distributed  # installed by scripts/setup.sh (the [dask] extra)

from autograder.batch import grade_batch
from autograder.distributed import DaskPool
from tests.conftest import TOY_COURSE
from tests.test_batch import class_dir, scores  # noqa: F401  (class_dir is a fixture)


def test_a_local_cluster_of_two_workers_matches_the_local_pool(toy, class_dir, tmp_path):  # noqa: F811
    local = grade_batch(toy, class_dir, tmp_path / "local", jobs=2, echo=lambda _: None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask = grade_batch(toy, class_dir, tmp_path / "dask", echo=lambda _: None,
                              executor=DaskPool(cluster.scheduler_address, TOY_COURSE, "toy"))
    assert scores(on_dask) == scores(local)
    assert (tmp_path / "dask" / "gradebook.sqlite").exists()  # the gradebook stays with the instructor
    assert [r.submission for r in on_dask] == ["alice", "bob", "carol", "dave", "erin.py", "erin.zip", "frank"]
