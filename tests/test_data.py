"""minigrad.data: datasets, collate, DataLoader, IDX/CIFAR readers and transforms."""

from __future__ import annotations

import collections
import gzip
import os
import pickle
import struct
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad._safe_pickle import UnpicklingError, safe_load
from minigrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    datasets,
    default_collate,
    default_convert,
    random_split,
)
from minigrad.data import transforms as T

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


class PlainDataset(Dataset):
    """Items one by one, no batch protocol: the reference for the fast paths."""

    def __init__(self, inner):
        self.inner = inner

    def __getitem__(self, i):
        return self.inner[i]

    def __len__(self):
        return len(self.inner)


def same_batches(a, b):
    assert type(a) is type(b)
    if isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_batches(x, y)
    else:
        assert a == b


# -- datasets -------------------------------------------------------------------------------


def test_mg_data_is_reachable_from_the_top_level():
    assert mg.data.DataLoader is DataLoader and mg.data.transforms.ToTensor is T.ToTensor


def test_tensor_dataset_items_and_size_check():
    x, y = mg.randn(5, 3), mg.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert yi.item() == 2
    with pytest.raises(ValueError, match=r"size mismatch.*\(5, 3\).*\(4,\)"):
        TensorDataset(x, mg.arange(4))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(x, np.arange(5))


def test_subset_concat_and_add():
    a, b = TensorDataset(mg.arange(4)), TensorDataset(mg.arange(10, 13))
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 7
    assert [cat[i][0].item() for i in range(7)] == [0, 1, 2, 3, 10, 11, 12]
    assert cat[-1][0].item() == 12 and cat.cumulative_sizes == [4, 7]
    with pytest.raises(IndexError):
        cat[7]
    sub = Subset(cat, [6, 0, 4])
    assert len(sub) == 3 and [sub[i][0].item() for i in range(3)] == [12, 0, 10]
    assert not hasattr(sub, "get_batch")  # ConcatDataset has no batch protocol
    assert hasattr(Subset(a, [1]), "get_batch")


def test_random_split_lengths_and_reproducibility():
    ds = TensorDataset(mg.arange(11))
    mg.manual_seed(3)
    parts = random_split(ds, [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]  # PyTorch hands the remainder out in order
    items = sorted(i for p in parts for i in p.indices)
    assert items == list(range(11))
    mg.manual_seed(3)
    assert random_split(ds, [0.5, 0.5])[0].indices == parts[0].indices
    assert [len(p) for p in random_split(ds, [3, 8])] == [3, 8]
    gen_a = random_split(ds, [5, 6], generator=np.random.default_rng(7))
    gen_b = random_split(ds, [5, 6], generator=np.random.default_rng(7))
    assert gen_a[1].indices == gen_b[1].indices
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(ds, [1.5, -0.5])


# -- collate --------------------------------------------------------------------------------


def test_default_collate_numbers_and_arrays():
    ints = default_collate([1, 2, 3])
    assert ints.dtype == mg.int64 and ints.tolist() == [1, 2, 3]
    floats = default_collate([0.5, 1.25])
    assert floats.dtype == mg.float64 and floats.tolist() == [0.5, 1.25]
    assert default_collate([True, False]).dtype == mg.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == mg.float32
    arrs = default_collate([np.full((2, 2), i, dtype=np.uint8) for i in range(3)])
    assert arrs.dtype == mg.uint8 and arrs.shape == (3, 2, 2) and arrs[2].sum().item() == 8
    stacked = default_collate([mg.ones(2), mg.zeros(2)])
    assert stacked.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_default_collate_containers():
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([(1, 0.5, "s"), (2, 1.5, "t")])
    assert isinstance(out, list) and out[0].tolist() == [1, 2] and out[2] == ["s", "t"]
    d = default_collate([{"a": 1, "b": [1.0, 2]}, {"a": 3, "b": [3.0, 4]}])
    assert (
        d["a"].tolist() == [1, 3] and d["b"][0].dtype == mg.float64 and d["b"][1].tolist() == [2, 4]
    )
    p = default_collate([Point(1, 2), Point(3, 4)])
    assert isinstance(p, Point) and p.y.tolist() == [2, 4]
    od = default_collate([collections.OrderedDict(z=1, a=2)] * 2)
    assert type(od) is collections.OrderedDict and list(od) == ["z", "a"]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        default_collate([mg.ones(2), mg.ones(3)])
    with pytest.raises(TypeError, match="found"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert((np.arange(3), 1, {"k": np.float64(2.0)}))
    assert isinstance(out, list) and isinstance(out[0], mg.Tensor) and out[1] == 1
    assert out[2]["k"].dtype == mg.float64


# -- DataLoader -----------------------------------------------------------------------------


@given(n=st.integers(0, 30), bs=st.integers(1, 8), drop_last=st.booleans(), shuffle=st.booleans())
def test_loader_len_and_coverage(n, bs, drop_last, shuffle):
    ds = TensorDataset(mg.arange(n))
    loader = DataLoader(ds, batch_size=bs, drop_last=drop_last, shuffle=shuffle)
    batches = [b[0].tolist() for b in loader]
    assert len(batches) == len(loader) == (n // bs if drop_last else -(-n // bs))
    assert all(len(b) == bs for b in (batches if drop_last else batches[:-1]))
    assert all(0 < len(b) <= bs for b in batches)
    seen = [i for b in batches for i in b]
    assert len(set(seen)) == len(seen)
    if not drop_last:
        assert sorted(seen) == list(range(n))
    if not shuffle:
        assert seen == list(range(len(seen)))


def test_shuffle_is_reproducible_and_changes_per_epoch():
    ds = TensorDataset(mg.arange(50))
    loader = DataLoader(ds, batch_size=10, shuffle=True)

    def epoch():
        return [i for (b,) in loader for i in b.tolist()]

    mg.manual_seed(11)
    first, second = epoch(), epoch()
    mg.manual_seed(11)
    assert epoch() == first and epoch() == second
    assert first != second and sorted(first) == list(range(50))
    g1 = DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(5))
    g2 = DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(5))
    assert [b.tolist() for (b,) in g1] == [b.tolist() for (b,) in g2]


def test_fast_path_matches_item_by_item():
    x = mg.randn(23, 2, 3)
    y = mg.randint(0, 5, (23,))
    fast = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
    slow = DataLoader(PlainDataset(TensorDataset(x, y)), batch_size=4, shuffle=True)
    sub = Subset(TensorDataset(x, y), [5, 3, 9, 1, 0])
    for loaders in ((fast, slow), (DataLoader(sub, 2), DataLoader(PlainDataset(sub), 2))):
        mg.manual_seed(2)
        a = list(loaders[0])
        mg.manual_seed(2)
        b = list(loaders[1])
        assert len(a) == len(b)
        for ba, bb in zip(a, b):
            assert isinstance(ba, list)
            same_batches(ba, bb)


def test_loader_options():
    ds = PlainDataset([{"v": i, "name": str(i)} for i in range(7)])
    unbatched = list(DataLoader(ds, batch_size=None))
    assert unbatched[3] == {"v": 3, "name": "3"} and len(DataLoader(ds, batch_size=None)) == 7
    custom = list(DataLoader(ds, batch_size=3, collate_fn=lambda items: [d["v"] for d in items]))
    assert custom == [[0, 1, 2], [3, 4, 5], [6]]
    by_sampler = DataLoader(ds, batch_size=2, sampler=[6, 0, 3])
    assert [b["v"].tolist() for b in by_sampler] == [[6, 0], [3]] and len(by_sampler) == 2
    by_batches = DataLoader(ds, batch_sampler=[[1, 2], [5]])
    assert [b["v"].tolist() for b in by_batches] == [[1, 2], [5]]
    loader = DataLoader(ds, batch_size=2, drop_last=True, num_workers=4)
    assert (loader.dataset, loader.batch_size, loader.drop_last) == (ds, 2, True)
    it = iter(loader)
    assert len(it) == 3 and next(it)["v"].tolist() == [0, 1]


def test_getitems_protocol_is_used():
    class Batched(PlainDataset):
        calls = 0

        def __getitems__(self, idx):
            Batched.calls += 1
            return [self.inner[i] for i in idx]

    out = list(DataLoader(Batched([1.0, 2.0, 3.0]), batch_size=2))
    assert Batched.calls == 2 and out[0].dtype == mg.float64


def test_loader_argument_errors():
    ds = TensorDataset(mg.arange(4))
    for kwargs, pattern in [
        ({"batch_size": 0}, "positive integer"),
        ({"num_workers": -1}, "non-negative"),
        ({"sampler": [0], "shuffle": True}, "mutually exclusive"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, "mutually exclusive"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=3)


# -- IDX files and MNIST ----------------------------------------------------------------------


def idx_bytes(arr: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_mnist(root, n_train=7, n_test=3, layout="flat", gz=True, learnable=False):
    """IDX files of random images and labels; ``learnable``: each label also paints its own
    bright 14x5 patch, so that a model that learns anything beats chance clearly."""
    rng = np.random.default_rng(0)
    folder = root if layout == "flat" else root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        if learnable:
            images //= 4
            for img, label in zip(images, labels):
                r, c = 14 * (label // 5), 5 * (label % 5) + 2
                img[r : r + 14, c : c + 5] = 255
        for kind, arr, code in (("images-idx3", images, 0x08), ("labels-idx1", labels, 0x08)):
            data = idx_bytes(arr, code)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
        out[prefix] = (images, labels)
    return out


def test_read_idx_dtypes_and_shapes(tmp_path):
    cases = [
        (np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08),
        (np.array([-3, 7, 300], dtype=np.int16), 0x0B),
        (np.array([[1.5, -2.25]], dtype=np.float32), 0x0D),
        (np.array([-(2**31), 5], dtype=np.int32), 0x0C),
    ]
    for i, (arr, code) in enumerate(cases):
        plain, gz = tmp_path / f"a{i}", tmp_path / f"a{i}.gz"
        plain.write_bytes(idx_bytes(arr, code))
        gz.write_bytes(gzip.compress(idx_bytes(arr, code)))
        for path in (plain, gz):
            out = datasets.read_idx(str(path))
            assert out.dtype == arr.dtype and out.dtype.isnative and out.flags.writeable
            np.testing.assert_array_equal(out, arr)


def test_read_idx_rejects_corrupt_files(tmp_path):
    good = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4), 0x08)
    cases = {
        "short": (good[:-1], "truncated"),
        "long": (good + b"\0", "longer than its header"),
        "magic": (b"\x01" + good[1:], "not an IDX file"),
        "code": (good[:2] + b"\x07" + good[3:], "unknown IDX data type"),
        "header": (good[:9], "truncated inside its header"),
        "zero_dims": (b"\0\0\x08\0", "0 dimensions"),
        "gz_cut": (gzip.compress(good)[:-6], "not a valid gzip"),
        "gz_flip": (
            gzip.compress(good)[:-5] + b"\xff" + gzip.compress(good)[-4:],
            "not a valid gzip",
        ),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RuntimeError, match=message) as info:
            datasets.read_idx(str(tmp_path / name))
        assert str(tmp_path / name) in str(info.value)


def gzip_bomb(header: bytes, zeros: int = 200 << 20) -> bytes:
    """``header`` followed by ``zeros`` zero bytes, gzip-compressed (200 MB -> about 204 KB)."""
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        g.write(header)
        chunk = bytes(1 << 20)
        for _ in range(zeros >> 20):
            g.write(chunk)
    return buf.getvalue()


class CountingGzip(gzip.GzipFile):
    """Counts the decompressed bytes a reader pulls."""

    pulled = 0

    def read(self, size=-1):
        out = super().read(size)
        CountingGzip.pulled += len(out)
        return out

    def readinto(self, b):
        n = super().readinto(b)
        CountingGzip.pulled += n
        return n


def test_read_idx_streams_gzip_and_stops_at_the_declared_size(tmp_path, monkeypatch):
    from minigrad.data.datasets import mnist

    monkeypatch.setattr(mnist.gzip, "GzipFile", CountingGzip)
    # a header claiming 2^31 x 2^31 x 4 bytes: refused before any data is decompressed
    huge = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2**31, 2**31, 4)
    bomb = tmp_path / "bomb-idx3-ubyte.gz"
    bomb.write_bytes(gzip_bomb(huge))
    assert bomb.stat().st_size < 250_000
    CountingGzip.pulled = 0
    with pytest.raises(RuntimeError, match="bomb-idx3-ubyte.gz is corrupt or hostile") as info:
        datasets.read_idx(str(bomb))
    assert "(2147483648, 2147483648, 4)" in str(info.value) and CountingGzip.pulled <= 16
    # an honest small header followed by 200 MB: stops one byte past the declared data
    small = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10)
    (tmp_path / "long.gz").write_bytes(gzip_bomb(small))
    CountingGzip.pulled = 0
    with pytest.raises(RuntimeError, match="long.gz is longer than its header says"):
        datasets.read_idx(str(tmp_path / "long.gz"))
    assert CountingGzip.pulled <= 64  # not 200 MB (readinto may count twice via read)
    # plain files: the header is checked against the file's size before reading the data
    (tmp_path / "huge").write_bytes(huge + bytes(64))
    with pytest.raises(RuntimeError, match="huge is truncated: the header declares shape"):
        datasets.read_idx(str(tmp_path / "huge"))
    # data shorter than declared, inside a valid gzip stream
    (tmp_path / "short.gz").write_bytes(gzip.compress(small + bytes(9)))
    with pytest.raises(RuntimeError, match="short.gz is truncated: .* but 9 bytes"):
        datasets.read_idx(str(tmp_path / "short.gz"))


@pytest.mark.parametrize("layout,gz", [("flat", True), ("torchvision", False)])
def test_mnist_from_generated_files(tmp_path, layout, gz):
    truth = write_mnist(tmp_path, layout=layout, gz=gz)
    train = datasets.MNIST(str(tmp_path), train=True)
    test = datasets.MNIST(tmp_path, train=False, download=True)  # present: nothing to fetch
    images, labels = truth["train"]
    assert train.data.dtype == mg.uint8 and train.data.shape == (7, 28, 28)
    assert train.targets.dtype == mg.int64 and train.targets.tolist() == labels.tolist()
    assert len(test) == 3 and train.classes[3] == "3 - three"
    img, target = train[4]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(target) is int and target == labels[4]
    np.testing.assert_array_equal(img, images[4])
    assert "Split: Train" in repr(train)


def test_mnist_mismatched_counts(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(5, dtype=np.uint8), 0x08))
    )
    with pytest.raises(RuntimeError, match="train-labels.*7 images"):
        datasets.MNIST(tmp_path)


def test_missing_files_say_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", (str(tmp_path / "system"),))
    with pytest.raises(FileNotFoundError) as info:
        datasets.FashionMNIST(str(tmp_path / "data"))
    msg = str(info.value)
    for place in ("data/train-images-idx3-ubyte.gz", "data/FashionMNIST/raw/train-images",
                  "system/train-images-idx3-ubyte"):  # fmt: skip
        assert place in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "download" not in msg
    with pytest.raises(FileNotFoundError, match="cannot download"):
        datasets.FashionMNIST(str(tmp_path), download=True)


def test_batches_match_items_for_every_kind_of_transform(tmp_path):
    write_mnist(tmp_path, n_train=9)
    pipelines = [
        None,
        T.ToTensor(),
        T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))]),
        T.Compose([T.Pad(2), T.ToTensor(), T.CenterCrop(30)]),
        T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)]),  # not batchable: item by item
    ]
    for transform in pipelines:
        ds = datasets.MNIST(tmp_path, transform=transform, target_transform=lambda y: y + 100)
        idx = np.array([8, 0, 3, 3])
        same_batches(ds.get_batch(idx), default_collate([ds[int(i)] for i in idx]))


def test_loader_uses_batch_protocol_and_batch_transforms(tmp_path):
    write_mnist(tmp_path, n_train=10)
    calls = {"item": 0, "batch": 0}

    class CountingToTensor(T.ToTensor):
        def __call__(self, pic):
            calls["item"] += 1
            return super().__call__(pic)

        def batch(self, pics):
            calls["batch"] += 1
            return super().batch(pics)

    ds = datasets.MNIST(tmp_path, transform=CountingToTensor())
    batches = list(DataLoader(Subset(ds, list(range(9))), batch_size=4, shuffle=True))
    assert calls == {"item": 0, "batch": 3} and batches[-1][0].shape == (1, 1, 28, 28)


def test_mnist_loader_with_random_transforms_gives_valid_batches(tmp_path):
    truth = write_mnist(tmp_path, n_train=6)
    ds = datasets.MNIST(tmp_path, transform=T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]))
    images = truth["train"][0]
    for xb, _ in DataLoader(ds, batch_size=6):
        for k in range(6):
            got = np.rint(xb[k, 0].numpy() * 255).astype(np.uint8)
            assert np.array_equal(got, images[k]) or np.array_equal(got, images[k][:, ::-1])


@pytest.mark.skipif(
    not os.path.isfile(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_and_fast_epoch():
    train = datasets.FashionMNIST(transform=T.ToTensor())
    test = datasets.FashionMNIST(train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"
    x, y = train[0]
    assert (
        x.shape == (1, 28, 28)
        and x.dtype == mg.float32
        and 0 <= x.min().item() <= x.max().item() <= 1
    )
    loader = DataLoader(train, batch_size=64, shuffle=True)
    start = time.perf_counter()
    count = sum(xb.shape[0] for xb, _ in loader)
    elapsed = time.perf_counter() - start
    # the batch path takes ~0.03 s; item by item would take ~0.7 s
    assert count == 60000 and elapsed < 0.4, f"one epoch of batching took {elapsed:.2f}s"


# -- CIFAR and the safe unpickler ---------------------------------------------------------------


def write_cifar(root, n=4, bytes_keys=False):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    rows = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        entry = {"batch_label": f"batch {i}", "labels": labels, "data": data,
                 "filenames": [f"img{j}.png" for j in range(n)]}  # fmt: skip
        if bytes_keys:
            entry = {k.encode(): v for k, v in entry.items()}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        rows[name] = (data, labels)
    meta = {"label_names": [f"class{i}" for i in range(10)], "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return rows


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_cifar10_from_fake_batches(tmp_path, bytes_keys):
    rows = write_cifar(tmp_path, bytes_keys=bytes_keys)
    train = datasets.CIFAR10(str(tmp_path), train=True)
    test = datasets.CIFAR10(str(tmp_path / "cifar-10-batches-py"), train=False)
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == [t for k in range(1, 6) for t in rows[f"data_batch_{k}"][1]]
    assert test.targets == rows["test_batch"][1] and train.classes[2] == "class2"
    row = rows["data_batch_2"][0][1]  # the second image of the second file is item 5
    img, target = train[5]
    assert img.shape == (32, 32, 3) and target == rows["data_batch_2"][1][1]
    for h, w, c in [(0, 0, 0), (5, 17, 1), (31, 31, 2)]:
        assert img[h, w, c] == row[c * 1024 + h * 32 + w]  # rows are R, G, B planes
    aug = datasets.CIFAR10(
        str(tmp_path), transform=T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    )
    same_batches(aug.get_batch(np.array([3, 19])), default_collate([aug[3], aug[19]]))


def test_cifar_missing_and_malicious_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        datasets.CIFAR10(str(tmp_path), download=True)
    write_cifar(tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps({"data": Evil(), "labels": []}, protocol=2))
    with pytest.raises(
        UnpicklingError, match=r"test_batch.*refusing to load global '(posix|os)\.system'"
    ):
        datasets.CIFAR10(str(tmp_path), train=False)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", range(0, 6))
def test_safe_load_round_trips_plain_data(protocol):
    obj = {
        "a": [1, -2, 2**70, 1.5, None, True],
        "b": (b"xy", "s"),
        "arr": np.arange(6.0).reshape(2, 3),
        "be": np.arange(3, dtype=">i4"),
        "u8": np.arange(5, dtype=np.uint8),
        "sc": np.float32(2.5),
    }
    out = safe_load(pickle.dumps(obj, protocol=protocol))
    assert out["a"] == obj["a"] and out["b"] == obj["b"] and out["sc"] == np.float32(2.5)
    for key in ("arr", "be", "u8"):
        assert out[key].dtype == obj[key].dtype
        np.testing.assert_array_equal(out[key], obj[key])


def test_safe_load_refuses_code_and_objects():
    import builtins

    class Calls:
        def __init__(self, fn, *args):
            self.fn, self.args = fn, args

        def __reduce__(self):
            return (self.fn, self.args)

    for protocol in (0, 2, 4, 5):
        for payload in (Calls(builtins.eval, "1+1"), Calls(os.getcwd), collections.Counter("ab")):
            with pytest.raises(UnpicklingError, match="refusing"):
                safe_load(pickle.dumps(payload, protocol=protocol), name="evil.pkl")
    with pytest.raises(UnpicklingError, match="dtype"):
        safe_load(pickle.dumps(np.array([1, None], dtype=object), protocol=2))
    with pytest.raises(UnpicklingError, match="truncated"):
        safe_load(pickle.dumps({"a": np.arange(4)}, protocol=2)[:-9])


DEEP = 100_000
HOSTILE_SHAPES = {
    "nested_lists": b"(" * DEEP + b"l" * DEEP + b".",
    "nested_tuples": b"(" * DEEP + b"t" * DEEP + b".",
    "nested_pairs": b"\x80\x02N" + b"\x85" * DEEP + b".",
    "nested_dicts": b"\x80\x02" + b"}K\x01" * DEEP + b"}" + b"s" * DEEP + b".",
    "list_appended_into_list": b"\x80\x02" + b"]" * DEEP + b"a" * (DEEP - 1) + b".",
    "shared_tuple_laughs": b"\x80\x02K\x01" + b"2\x86" * 64 + b".",
    "laughs_as_dict_key": b"\x80\x02}K\x01" + b"2\x86" * 64 + b"K\x02s.",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SHAPES))
def test_safe_load_refuses_deep_or_exploding_data_quickly(case):
    start = time.perf_counter()
    with pytest.raises(UnpicklingError, match=r"deep\.pkl: .*(100 levels|expands)"):
        safe_load(HOSTILE_SHAPES[case], name="deep.pkl")
    assert time.perf_counter() - start < 10


def test_safe_load_keeps_shared_and_self_containing_data():
    inner = (np.dtype("<f4"), [1, 2])
    obj = {"a": inner, "b": inner, "deep": [[[[]]]]}
    out = safe_load(pickle.dumps(obj, protocol=2))
    assert out["a"] is out["b"] and out["a"][0] == np.dtype("<f4") and out["deep"] == [[[[]]]]
    loop: list = [1]
    loop.append(loop)
    back = safe_load(pickle.dumps(loop, protocol=2))
    assert back[0] == 1 and back[1] is back
    limit = []
    for _ in range(99):
        limit = [limit]
    assert safe_load(pickle.dumps(limit, protocol=2)) == limit  # 100 levels is the limit


def test_cifar_batch_nested_too_deep_names_the_file(tmp_path):
    write_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(HOSTILE_SHAPES["nested_lists"])
    with pytest.raises(UnpicklingError, match=r"test_batch: containers nested more than 100"):
        datasets.CIFAR10(str(tmp_path), train=False)


# -- transforms -------------------------------------------------------------------------------


def test_to_tensor_layout_and_scaling():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    t = T.ToTensor()(hwc)
    assert t.shape == (3, 2, 3) and t.dtype == mg.float32
    np.testing.assert_array_equal(
        t.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    )
    assert T.ToTensor()(np.full((4, 5), 255, dtype=np.uint8)).numpy().tolist() == [[[1.0] * 5] * 4]
    floats = T.ToTensor()(np.ones((2, 2, 1), dtype=np.float64) * 7)  # non-uint8: not scaled
    assert floats.dtype == mg.float64 and floats.shape == (1, 2, 2) and floats.max().item() == 7
    with pytest.raises(TypeError, match="NumPy array"):
        T.ToTensor()(mg.ones(1, 2, 2))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 2, 2), dtype=np.uint8))
    batch = np.stack([hwc, hwc[::-1]])
    same_batches(
        T.ToTensor().batch(batch), default_collate([T.ToTensor()(hwc), T.ToTensor()(hwc[::-1])])
    )


def test_normalize_values_inplace_and_errors():
    x = mg.rand(3, 4, 5)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(x)
    ref = (x.numpy() - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[
        :, None, None
    ]
    np.testing.assert_array_equal(out.numpy(), ref)
    assert out is not x and out.dtype == mg.float32
    same = T.Normalize(mean, std, inplace=True)(x)
    assert same is x
    np.testing.assert_array_equal(x.numpy(), ref)
    np.testing.assert_array_equal(
        T.Normalize(mean, std).batch(mg.stack([x, x])).numpy()[1], T.Normalize(mean, std)(x).numpy()
    )
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0,), (1,))(mg.zeros(1, 2, 2, dtype=mg.int64))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0,), (0,))(mg.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0, 0), (1, 1))(mg.zeros(3, 2, 2))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0,), (1,))(mg.zeros(2, 2))


def test_flips_on_arrays_and_tensors():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    t = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(t).numpy(), t.numpy()[:, ::-1])
    mg.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip()(img)[0, 0] != img[0, 0] for _ in range(400))
    assert 150 < flips < 250
    mg.manual_seed(0)
    again = sum(T.RandomHorizontalFlip()(img)[0, 0] != img[0, 0] for _ in range(400))
    assert again == flips
    batch = np.stack([img] * 200)
    out = T.RandomHorizontalFlip().batch(batch)
    flipped = np.array([np.array_equal(o, img[:, ::-1]) for o in out])
    kept = np.array([np.array_equal(o, img) for o in out])
    assert (flipped | kept).all() and 60 < flipped.sum() < 140


def windows(padded: np.ndarray, th: int, tw: int):
    h, w = padded.shape[:2]
    return [padded[i : i + th, j : j + tw] for i in range(h - th + 1) for j in range(w - tw + 1)]


def test_random_crop_with_padding_gives_padded_windows():
    img = (np.arange(4 * 5 * 2).reshape(4, 5, 2) + 1).astype(np.uint8)  # no zeros: padding shows
    crop = T.RandomCrop((4, 5), padding=2)
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    candidates = windows(padded, 4, 5)
    seen = set()
    for _ in range(300):
        out = crop(img)
        matches = [k for k, win in enumerate(candidates) if np.array_equal(out, win)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == len(candidates)  # every offset in [0, 4]² appears
    for out in crop.batch(np.stack([img] * 20)):
        assert any(np.array_equal(out, win) for win in candidates)


@pytest.mark.parametrize(
    "mode,np_mode", [("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")]
)
def test_random_crop_padding_modes_and_tensor_images(mode, np_mode):
    t = mg.tensor(np.arange(2 * 4 * 4, dtype=np.float64).reshape(2, 4, 4))
    out = T.RandomCrop(8, padding=2, padding_mode=mode)(t)  # the full padded image
    ref = np.pad(t.numpy(), ((0, 0), (2, 2), (2, 2)), mode=np_mode)
    assert out.shape == (2, 8, 8)
    np.testing.assert_array_equal(out.numpy(), ref)


def test_pad_crop_fill_and_errors():
    img = np.ones((2, 3, 3), dtype=np.uint8)
    padded = T.Pad((1, 2), fill=(10, 20, 30))(img)  # left/right 1, top/bottom 2
    assert padded.shape == (6, 5, 3) and padded[0, 0].tolist() == [10, 20, 30]
    assert padded[2:4, 1:4].min() == 1
    needed = T.RandomCrop(5, pad_if_needed=True)(np.ones((3, 4), dtype=np.uint8))
    assert needed.shape == (5, 5)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(np.ones((3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="padding must be an int or a 1, 2, or 4"):
        T.RandomCrop(2, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(2, padding_mode="wrap")
    center = T.CenterCrop(2)(np.arange(16).reshape(4, 4))
    np.testing.assert_array_equal(center, [[5, 6], [9, 10]])


def test_resize_and_lambda_and_compose():
    row = mg.tensor([[[0.0, 4.0]]])  # 1×1×2
    up = T.Resize((1, 4))(row)
    np.testing.assert_allclose(up.numpy().ravel(), [0.0, 1.0, 3.0, 4.0])  # half-pixel bilinear
    flat = T.Resize(3)(np.full((6, 12), 7, dtype=np.uint8))  # shorter edge to 3, aspect kept
    assert flat.shape == (3, 6) and flat.dtype == np.uint8 and (flat == 7).all()
    near = T.Resize((2, 2), interpolation="nearest")(np.arange(16, dtype=np.uint8).reshape(4, 4))
    np.testing.assert_array_equal(near, [[5, 7], [13, 15]])
    pipe = T.Compose([T.Lambda(lambda a: a + 1), T.ToTensor()])
    assert pipe(np.zeros((2, 2), dtype=np.uint8)).sum().item() == pytest.approx(4 / 255)
    assert not T.is_batchable(pipe) and T.is_batchable(T.Compose([T.ToTensor(), T.Resize(4)]))
    assert "Lambda()" in repr(pipe)

    class MyFlip(T.RandomHorizontalFlip):  # overrides only __call__: must go item by item
        def __call__(self, img):
            return img

    assert not T.is_batchable(MyFlip()) and T.is_batchable(T.RandomHorizontalFlip())
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
