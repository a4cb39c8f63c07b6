"""The synthetic polymer catalog as a Parquet dataset: written per file (resumable), read per
file with pyarrow.dataset, same rows as one in-memory draw of each chunk."""
import numpy as np

from chiscreen.screen.synthetic import iter_polymer_dataset, write_synthetic_polymer_dataset


def test_dataset_round_trip_and_resume(tmp_path):
    path = str(tmp_path / "cat")
    assert write_synthetic_polymer_dataset(path, 2500, n_features=7, rows_per_file=1000, seed=3) == 3
    parts = list(iter_polymer_dataset(path))
    assert [(name, n) for name, n, _ in parts] == [("part-00000.parquet", 1000), ("part-00001.parquet", 1000),
                                                   ("part-00002.parquet", 500)]
    ids, X = parts[1][2]()
    assert ids.tolist() == list(range(1000, 2000))
    assert X.dtype == np.float32 and X.shape == (1000, 7) and X.flags.c_contiguous
    want = np.random.default_rng((3, 1)).standard_normal((1000, 7), dtype=np.float32)
    assert np.array_equal(X, want)
    # a rerun keeps finished files and writes the missing one
    (tmp_path / "cat" / "part-00002.parquet").unlink()
    before = (tmp_path / "cat" / "part-00000.parquet").stat().st_mtime_ns
    write_synthetic_polymer_dataset(path, 2500, n_features=7, rows_per_file=1000, seed=3)
    assert (tmp_path / "cat" / "part-00000.parquet").stat().st_mtime_ns == before
    ids2, X2 = list(iter_polymer_dataset(path))[2][2]()
    assert ids2.tolist() == list(range(2000, 2500)) and X2.shape == (500, 7)
    assert not list((tmp_path / "cat").glob("*.tmp"))
