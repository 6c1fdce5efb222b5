"""gc.utils.data: datasets, samplers, DataLoader batching/shuffling/collation, random_split."""
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import graphc as gc
from graphc.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler, Subset,
    TensorDataset, default_collate, default_convert, random_split,
)
from helpers import assert_matches


def make_ds(n=10):
    x = gc.arange(n * 2, dtype=gc.float32).reshape(n, 2)
    y = gc.arange(n)
    return TensorDataset(x, y)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ---------------------------------------------------------------- datasets
def test_tensor_dataset_indexing():
    ds = make_ds(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert_matches(x, np.array([6.0, 7.0], np.float32))
    assert_matches(y, np.array(3))
    x, y = ds[-1]
    assert y.item() == 4
    assert ds.tensors[0].shape == (5, 2)


def test_tensor_dataset_length_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(gc.zeros(3, 2), gc.zeros(4))
    with pytest.raises(TypeError):
        TensorDataset(gc.zeros(3), [1, 2, 3])


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_and_concat():
    ds = Squares(6)
    sub = Subset(ds, [5, 0, 2])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [25, 0, 4]
    cat = Squares(3) + Squares(2)
    assert isinstance(cat, ConcatDataset) and len(cat) == 5
    assert [cat[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert cat[-1] == 1
    with pytest.raises(ValueError):
        cat[-6]


# ---------------------------------------------------------------- DataLoader
def test_batches_in_order_with_short_last_batch():
    loader = DataLoader(make_ds(5), batch_size=2)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert isinstance(batches[0], list) and len(batches[0]) == 2  # tuples collate to lists, like torch
    x0, y0 = batches[0]
    assert_matches(x0, np.array([[0, 1], [2, 3]], np.float32))
    assert_matches(y0, np.array([0, 1]))
    assert batches[-1][1].tolist() == [4]


@pytest.mark.parametrize("n,bs,drop,want", [(5, 2, True, 2), (4, 2, True, 2), (4, 2, False, 2), (1, 3, False, 1),
                                           (1, 3, True, 0), (0, 2, False, 0)])
def test_len_and_drop_last(n, bs, drop, want):
    loader = DataLoader(Squares(n), batch_size=bs, drop_last=drop)
    assert len(loader) == want
    batches = list(loader)
    assert len(batches) == want
    if drop:
        assert all(len(b) == bs for b in batches)


def test_default_batch_size_is_one():
    batches = list(DataLoader(Squares(3)))
    assert len(batches) == 3
    assert_matches(batches[2], np.array([4]))


def test_batch_size_none_yields_samples():
    loader = DataLoader(Squares(3), batch_size=None)
    assert len(loader) == 3
    assert list(loader) == [0, 1, 4]  # default_convert leaves Python numbers alone
    arrays = DataLoader([np.ones(2), np.zeros(2)], batch_size=None)
    out = list(arrays)
    assert isinstance(out[0], gc.Tensor) and out[0].dtype == gc.float64


def test_shuffle_is_a_permutation_and_reproducible():
    ds = make_ds(17)

    def epoch(loader):
        return [i for _, y in loader for i in y.tolist()]

    gc.manual_seed(3)
    a = epoch(DataLoader(ds, batch_size=4, shuffle=True))
    gc.manual_seed(3)
    loader = DataLoader(ds, batch_size=4, shuffle=True)
    b = epoch(loader)
    c = epoch(loader)  # a new permutation each epoch
    assert a == b
    assert sorted(a) == list(range(17)) and sorted(c) == list(range(17))
    assert a != list(range(17)) and c != b


def test_shuffle_with_generator():
    ds = Squares(12)
    a = [int(v) for b in DataLoader(ds, batch_size=5, shuffle=True, generator=gc.Generator().manual_seed(7)) for v in b]
    gc.manual_seed(0)
    b = [int(v) for b in DataLoader(ds, batch_size=5, shuffle=True, generator=gc.Generator().manual_seed(7)) for v in b]
    assert a == b and sorted(a) == sorted(i * i for i in range(12))


def test_custom_collate_fn_receives_sample_lists():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda batch: tuple(batch))
    assert list(loader) == [(0, 1), (4, 9), (16,)]


def test_plain_list_dataset():
    out = list(DataLoader([1.5, 2.5, 3.5], batch_size=2))
    assert_matches(out[0], np.array([1.5, 2.5]))  # Python floats collate to float64, like torch
    assert_matches(out[1], np.array([3.5]))


def test_iterable_dataset():
    loader = DataLoader(Stream(5), batch_size=2)
    assert len(loader) == 3
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_explicit_samplers():
    ds = Squares(6)
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, False))
    assert [b.tolist() for b in loader] == [[0, 1, 4, 9], [16, 25]]
    gc.manual_seed(0)
    order = list(RandomSampler(ds))
    assert sorted(order) == list(range(6))
    draws = list(RandomSampler(ds, replacement=True, num_samples=20))
    assert len(draws) == 20 and all(0 <= d < 6 for d in draws)
    assert len(BatchSampler(range(10), 3, True)) == 3 and len(BatchSampler(range(10), 3, False)) == 4


@pytest.mark.parametrize("kw,msg", [
    (dict(sampler=SequentialSampler(range(3)), shuffle=True), "mutually exclusive with shuffle"),
    (dict(batch_sampler=BatchSampler(range(3), 2, False), batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(batch_size=0), "batch_size should be a positive integer"),
])
def test_loader_argument_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        DataLoader(Squares(3), **kw)


# ---------------------------------------------------------------- collation
def test_collate_tensors_stack_and_keep_dtype():
    batch = [gc.tensor([1, 2], dtype=gc.int32), gc.tensor([3, 4], dtype=gc.int32)]
    assert_matches(default_collate(batch), np.array([[1, 2], [3, 4]], np.int32))
    zero_d = default_collate([gc.tensor(1.5), gc.tensor(2.5)])
    assert_matches(zero_d, np.array([1.5, 2.5], np.float32))
    with pytest.raises(RuntimeError):
        default_collate([gc.zeros(2), gc.zeros(3)])


@pytest.mark.parametrize("batch,want", [
    ([1, 2, 3], np.array([1, 2, 3], np.int64)),
    ([1.0, 2.0], np.array([1.0, 2.0], np.float64)),
    ([True, False], np.array([True, False])),
    ([np.float32(1), np.float32(2)], np.array([1, 2], np.float32)),
    ([np.zeros(2, np.int16), np.ones(2, np.int16)], np.array([[0, 0], [1, 1]], np.int16)),
])
def test_collate_numbers_and_arrays(batch, want):
    assert_matches(default_collate(batch), want)


def test_collate_nested_structures():
    Point = namedtuple("Point", "x y")
    batch = [
        {"a": 1.0, "b": (gc.tensor([1.0]), "s0"), "p": Point(1, 2)},
        {"a": 2.0, "b": (gc.tensor([2.0]), "s1"), "p": Point(3, 4)},
    ]
    out = default_collate(batch)
    assert set(out) == {"a", "b", "p"}
    assert_matches(out["a"], np.array([1.0, 2.0]))
    assert isinstance(out["b"], list) and out["b"][1] == ["s0", "s1"]
    assert_matches(out["b"][0], np.array([[1.0], [2.0]], np.float32))
    assert isinstance(out["p"], Point) and out["p"].x.tolist() == [1, 3]
    od = default_collate([OrderedDict(z=1, a=2), OrderedDict(z=3, a=4)])
    assert isinstance(od, OrderedDict) and list(od) == ["z", "a"]
    lists = default_collate([[1, 2], [3, 4]])
    assert isinstance(lists, list) and [t.tolist() for t in lists] == [[1, 3], [2, 4]]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": [np.float32(1.0), "x"], "c": (np.ones(1), 2)})
    assert_matches(out["a"], np.arange(3))
    assert isinstance(out["b"][0], gc.Tensor) and out["b"][1] == "x"
    assert isinstance(out["c"], list) and out["c"][1] == 2


# ---------------------------------------------------------------- random_split
def test_random_split_lengths():
    ds = Squares(10)
    parts = random_split(ds, [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    idx = sorted(parts[0].indices + parts[1].indices)
    assert idx == list(range(10))
    assert all(isinstance(p, Subset) and p.dataset is ds for p in parts)


def test_random_split_fractions_distribute_remainder():
    parts = random_split(Squares(10), [0.34, 0.33, 0.33])
    assert [len(p) for p in parts] == [4, 3, 3]
    parts = random_split(Squares(5), [0.5, 0.5])
    assert [len(p) for p in parts] == [3, 2]


def test_random_split_reproducible():
    gc.manual_seed(5)
    a = [p.indices for p in random_split(Squares(20), [10, 10])]
    gc.manual_seed(5)
    b = [p.indices for p in random_split(Squares(20), [10, 10])]
    c = [p.indices for p in random_split(Squares(20), [10, 10], generator=gc.Generator().manual_seed(1))]
    d = [p.indices for p in random_split(Squares(20), [10, 10], generator=gc.Generator().manual_seed(1))]
    assert a == b and c == d


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(Squares(10), [1.5, -0.5])


def test_loader_over_a_split():
    train, _ = random_split(make_ds(8), [6, 2], generator=gc.Generator().manual_seed(0))
    xs, ys = zip(*DataLoader(train, batch_size=4))
    assert [len(y) for y in ys] == [4, 2]
    for x, y in zip(xs, ys):
        assert_matches(x, np.stack([np.array([2 * i, 2 * i + 1], np.float32) for i in y.tolist()]))


def test_collate_keeps_the_graph_for_tensors_that_require_grad():
    a = gc.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([a * 2, a * 3])
    assert batch.requires_grad and batch.grad_fn is not None
    batch.sum().backward()
    assert a.grad.tolist() == [5.0, 5.0]


def test_batched_fetch_protocol():
    class Batched(Squares):
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [self[i] for i in indices]

    ds = Batched(7)
    assert [b.tolist() for b in DataLoader(ds, batch_size=3)] == [[0, 1, 4], [9, 16, 25], [36]]
    assert Batched.calls == 3
    sub = Subset(ds, [6, 1])
    assert [b.tolist() for b in DataLoader(sub, batch_size=2)] == [[36, 1]] and Batched.calls == 4
    assert sub.__getitems__([1, 0]) == [1, 36]
    plain = Subset(Squares(4), [3, 2])
    assert plain.__getitems__([0, 1]) == [9, 4]
