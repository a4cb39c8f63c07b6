"""chiscreen data fetch, against a local HTTP server (nothing leaves this machine)."""
import hashlib
import http.server
import json
import os
import pickle
import threading

import numpy as np
import pytest

from chiscreen.data.fetch import (
    RemoteFile,
    fetch,
    load_numpy_pickle,
    splits_content_hash,
    splits_from_test_indices,
)
from chiscreen.errors import DownloadError


@pytest.fixture()
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_checks_hashes_and_converts_the_pickle(server, tmp_path):
    root, url = server
    csv = b"a,b\n1,2\n"
    (root / "x.csv").write_bytes(csv)
    tests = [np.array([3, 1]), np.array([0, 2])]
    (root / "idx.pkl").write_bytes(pickle.dumps(tests))
    want = splits_content_hash(splits_from_test_indices(tests, n_rows=4))
    files = (
        RemoteFile("d/x.csv", f"{url}/x.csv", hashlib.sha256(csv).hexdigest()),
        RemoteFile("d/splits.json", f"{url}/idx.pkl", "", kind="splits-pickle"),
    )
    dest = tmp_path / "data"
    # n_rows of the real data is 1190; here 4 rows: pass the content hash for that table
    import chiscreen.data.fetch as f
    orig = f.splits_from_test_indices
    f.splits_from_test_indices = lambda obj, n_rows=4: orig(obj, n_rows=4)
    try:
        out = fetch(dest, files=files, splits_sha256=want, progress=False)
    finally:
        f.splits_from_test_indices = orig
    assert (dest / "d/x.csv").read_bytes() == csv
    sp = json.loads((dest / "d/splits.json").read_text())
    assert sp["test"] == [[1, 3], [0, 2]] and sp["train"] == [[0, 2], [1, 3]]
    assert len(out) == 2


def test_fetch_rejects_a_wrong_hash(server, tmp_path):
    root, url = server
    (root / "x.csv").write_bytes(b"tampered\n")
    files = (RemoteFile("d/x.csv", f"{url}/x.csv", "0" * 64),)
    with pytest.raises(DownloadError, match="cannot fetch d/x.csv"):
        fetch(tmp_path / "data", files=files, progress=False)
    assert not (tmp_path / "data/d/x.csv").exists()


def test_fetch_reports_unreachable_source(tmp_path):
    files = (RemoteFile("d/x.csv", "http://127.0.0.1:9/none.csv", "0" * 64),)
    with pytest.raises(DownloadError):
        fetch(tmp_path / "data", files=files, progress=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_code():
    with pytest.raises(DownloadError, match="only numpy arrays"):
        load_numpy_pickle(pickle.dumps(_Evil()))
    arrays = load_numpy_pickle(pickle.dumps([np.arange(5), np.arange(3)]))
    assert [a.tolist() for a in arrays] == [[0, 1, 2, 3, 4], [0, 1, 2]]


def test_pinned_split_hash_matches_shared_copy(shared_data):
    from chiscreen.data.fetch import SPLITS_CONTENT_SHA256

    sp = json.loads((shared_data / "mtl_chi" / "splits.json").read_text())
    assert splits_content_hash(sp) == SPLITS_CONTENT_SHA256
