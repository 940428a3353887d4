"""Runs inside ``mpiexec -n N``: every distributed check of ``test_distributed.py`` in one
launch (process start-up dominates the cost), each rank writing its results as JSON.

Usage: ``mpiexec -n N python tests/distributed_worker.py OUT_DIR``; rank r writes
``OUT_DIR/rank{r}.json`` mapping a check's name to its result (numbers, lists, or the text of
the error it raised)."""

import json
import sys
import traceback

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.nn.parallel import DistributedDataParallel as DDP  # noqa: N817 (the usual name)

dist.init_process_group("mpi")
RANK, WORLD = dist.get_rank(), dist.get_world_size()
RESULTS: dict = {}
REFERENCE = {
    dist.ReduceOp.SUM: lambda xs: np.sum(xs, axis=0),
    dist.ReduceOp.AVG: lambda xs: np.mean(xs, axis=0),
    dist.ReduceOp.PRODUCT: lambda xs: np.prod(xs, axis=0),
    dist.ReduceOp.MIN: lambda xs: np.min(xs, axis=0),
    dist.ReduceOp.MAX: lambda xs: np.max(xs, axis=0),
}


def check(fn):
    """Records fn()'s result under its name, or the error it raised."""
    try:
        RESULTS[fn.__name__] = fn()
    except Exception as err:  # reported to the test, which names the check
        RESULTS[fn.__name__] = {
            "error": f"{type(err).__name__}: {err}",
            "tb": traceback.format_exc(),
        }
    return fn


def rank_data(r, dtype, shape=(3, 4)):
    """Rank r's input: distinct on every rank, with negatives, so MIN/MAX/PRODUCT differ."""
    return (np.arange(np.prod(shape)).reshape(shape) % 5 - 2 + 0.5 * (r + 1)).astype(dtype)


def everyone(dtype, shape=(3, 4)):
    return np.stack([rank_data(r, dtype, shape) for r in range(WORLD)])


@check
def all_reduce_every_op():
    worst = {}
    for dtype in ("float32", "float64"):
        for op, ref in REFERENCE.items():
            for layout in ("contiguous", "transposed", "async"):
                x = mg.tensor(rank_data(RANK, dtype))
                expected = ref(everyone(dtype))
                if layout == "transposed":  # a strided view: reduced through a copy
                    x, expected = x.T, expected.T
                if layout == "async":
                    work = dist.all_reduce(x, op=op, async_op=True)
                    work.wait()
                    assert work.is_completed()
                else:
                    assert dist.all_reduce(x, op=op) is None
                assert x.dtype == getattr(mg, dtype)
                err = float(np.max(np.abs(x.numpy() - expected) / (1 + np.abs(expected))))
                worst[f"{dtype}/{op.name}/{layout}"] = err
    return worst


@check
def broadcast_reduce_gather():
    out = {}
    for dtype in ("float32", "float64"):
        src = WORLD - 1
        x = mg.tensor(rank_data(RANK, dtype))
        dist.broadcast(x, src=src)
        out[f"broadcast/{dtype}"] = float(np.max(np.abs(x.numpy() - rank_data(src, dtype))))
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
            x = mg.tensor(rank_data(RANK, dtype))
            dist.reduce(x, dst=1, op=op)
            want = REFERENCE[op](everyone(dtype)) if RANK == 1 else rank_data(RANK, dtype)
            out[f"reduce/{dtype}/{op.name}"] = float(np.max(np.abs(x.numpy() - want)))
        got = [mg.zeros(3, 4, dtype=getattr(mg, dtype)) for _ in range(WORLD)]
        dist.all_gather(got, mg.tensor(rank_data(RANK, dtype)))
        want = everyone(dtype)
        out[f"all_gather/{dtype}"] = float(
            max(np.max(np.abs(g.numpy() - w)) for g, w in zip(got, want))
        )
        got = [mg.zeros(2, dtype=getattr(mg, dtype)) for _ in range(WORLD)]
        dist.all_gather(
            got, mg.full((2,), float(RANK), dtype=getattr(mg, dtype)), async_op=True
        ).wait()
        out[f"all_gather_async/{dtype}"] = [g.tolist() for g in got]
    dist.barrier()
    dist.barrier(async_op=True).wait()
    out["queries"] = [
        dist.is_available(),
        dist.is_initialized(),
        dist.get_backend(),
        dist.get_world_size(),
    ]
    return out


def raises(fn):
    try:
        fn()
    except (RuntimeError, ValueError, TypeError) as err:
        return f"{type(err).__name__}: {err}"
    return "no error"


@check
def mismatches_raise_on_every_rank():
    return {
        "shape": raises(lambda: dist.all_reduce(mg.ones(2, 1 + RANK))),
        "dtype": raises(
            lambda: dist.all_reduce(mg.ones(2, dtype=mg.float32 if RANK else mg.float64))
        ),
        "op": raises(
            lambda: dist.all_reduce(mg.ones(2), op=dist.ReduceOp.MAX if RANK else dist.ReduceOp.MIN)
        ),
        "src": raises(lambda: dist.broadcast(mg.ones(2), src=WORLD)),
        "gather_list": raises(lambda: dist.all_gather([mg.ones(2)], mg.ones(2))),
        "avg_int": raises(
            lambda: dist.all_reduce(mg.ones(2, dtype=mg.int64), op=dist.ReduceOp.AVG)
        ),
        # after the errors the group still works
        "after": (lambda t: (dist.all_reduce(t), t.tolist())[1])(mg.ones(2)),
    }


def mlp(batch_norm=False):
    mg.manual_seed(0)
    layers = [mg.nn.Linear(5, 8)]
    if batch_norm:
        layers.append(mg.nn.BatchNorm1d(8))
    layers += [mg.nn.Tanh(), mg.nn.Linear(8, 3)]
    return mg.nn.Sequential(*layers).double()


def full_batch(step, per_rank=4):
    rng = np.random.default_rng(100 + step)
    x = rng.standard_normal((per_rank * WORLD, 5))
    y = rng.integers(0, 3, per_rank * WORLD)
    return mg.tensor(x), mg.tensor(y)


def shard(t, per_rank=4):
    return t[RANK * per_rank : (RANK + 1) * per_rank]


def train(model, steps, sharded, per_rank=4, dtype=mg.float64):
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        x, y = full_batch(step, per_rank)
        x = x.to(dtype)
        if sharded:
            x, y = shard(x, per_rank), shard(y, per_rank)
        opt.zero_grad()
        mg.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model


@check
def ddp_matches_one_process_on_the_whole_batch():
    single = train(mlp(), 3, sharded=False)
    model = mlp()
    if RANK:  # other ranks start elsewhere: construction must copy rank 0's parameters
        with mg.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    ddp = DDP(model, bucket_cap_mb=0.0002)  # ~200 bytes: several buckets, started in turn
    train(ddp, 3, sharded=True)
    diff = max(
        float(np.max(np.abs(a.detach().numpy() - b.detach().numpy())))
        for a, b in zip(ddp.module.parameters(), single.parameters())
    )
    return {
        "max_param_diff": diff,
        "buckets": len(ddp.reducer.buckets),
        "keys": list(ddp.state_dict())[:2],
        "comm_seconds_per_step": ddp.reducer.comm_seconds / ddp.reducer.reductions,
    }


@check
def ddp_float32_matches_too():
    single = train(mlp().float(), 3, sharded=False, dtype=mg.float32)
    ddp = DDP(mlp().float())
    train(ddp, 3, sharded=True, dtype=mg.float32)
    return max(
        float(np.max(np.abs(a.detach().numpy() - b.detach().numpy())))
        for a, b in zip(ddp.module.parameters(), single.parameters())
    )


@check
def ddp_batch_norm_buffers():
    out = {}
    for broadcast in (True, False):
        ddp = DDP(mlp(batch_norm=True), broadcast_buffers=broadcast)
        seen = []
        ddp.module.register_forward_pre_hook(
            lambda m, args, seen=seen: seen.append(m[1].running_mean.numpy().copy())
        )
        train(ddp, 3, sharded=True)
        gathered = [mg.zeros(len(seen), 8, dtype=mg.float64) for _ in range(WORLD)]
        dist.all_gather(gathered, mg.tensor(np.stack(seen)))
        spread = [float(np.max(np.abs(g.numpy() - gathered[0].numpy()))) for g in gathered]
        out[f"broadcast_buffers={broadcast}"] = max(spread)
        params = [mg.zeros(3, 8, dtype=mg.float64) for _ in range(WORLD)]
        dist.all_gather(params, ddp.module[3].weight.detach().clone())
        out[f"params_equal/{broadcast}"] = float(
            max(np.max(np.abs(p.numpy() - params[0].numpy())) for p in params)
        )
    return out


@check
def ddp_no_sync_accumulates_then_averages():
    single = mlp()
    ddp = DDP(mlp())
    inside = []
    for micro in range(3):
        x, y = full_batch(micro)
        mg.nn.functional.cross_entropy(single(x), y).backward()
        loss = mg.nn.functional.cross_entropy(ddp(shard(x)), shard(y))
        if micro < 2:
            with ddp.no_sync():
                loss.backward()
            inside.append(ddp.module[2].weight.grad.numpy().copy())
        else:
            loss.backward()
    g = [mg.zeros(3, 8, dtype=mg.float64) for _ in range(WORLD)]
    dist.all_gather(g, mg.tensor(inside[-1]))
    return {
        "max_grad_diff": max(
            float(np.max(np.abs(a.grad.numpy() - b.grad.numpy())))
            for a, b in zip(ddp.module.parameters(), single.parameters())
        ),
        "local_grads_differ_inside_no_sync": float(np.max(np.abs(g[0].numpy() - g[-1].numpy()))),
    }


@check
def ddp_recovers_after_a_backward_that_raised():
    ddp, single = DDP(mlp(), bucket_cap_mb=0.0002), mlp()

    def boom(t):
        raise ValueError("boom")

    handle = ddp.module[0].weight.register_post_accumulate_grad_hook(boom)  # reached last
    x, y = full_batch(0)
    error = raises(lambda: mg.nn.functional.cross_entropy(ddp(shard(x)), shard(y)).backward())
    handle.remove()
    ddp.zero_grad()
    x, y = full_batch(1)
    mg.nn.functional.cross_entropy(ddp(shard(x)), shard(y)).backward()
    mg.nn.functional.cross_entropy(single(x), y).backward()
    diff = max(
        float(np.max(np.abs(a.grad.numpy() - b.grad.numpy())))
        for a, b in zip(ddp.module.parameters(), single.parameters())
    )
    return {"error": error, "max_grad_diff": diff}


@check
def ddp_unused_parameter():
    class WithSpare(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.spare = mlp(), mg.nn.Linear(2, 2).double()

        def forward(self, x):
            return self.body(x)

    build = WithSpare

    out = {"error": raises(lambda: train(DDP(build()), 1, sharded=True))}
    ddp = DDP(build(), find_unused_parameters=True)
    train(ddp, 1, sharded=True)
    out["spare_grad"] = ddp.module.spare.weight.grad.numpy().tolist()
    return out


@check
def init_destroy_and_arguments():
    out = {"twice": raises(lambda: dist.init_process_group("mpi"))}
    dist.destroy_process_group()
    out["after_destroy"] = [dist.is_initialized(), raises(dist.get_rank)]
    out["world_size"] = raises(lambda: dist.init_process_group("mpi", world_size=WORLD + 1))
    out["rank"] = raises(lambda: dist.init_process_group(rank=(RANK + 1) % WORLD))
    dist.init_process_group(None, "env://", world_size=WORLD, rank=RANK)  # MPI's own values
    out["again"] = [dist.get_backend(), dist.get_rank() == RANK, dist.get_world_size()]
    return out


with open(f"{sys.argv[1]}/rank{RANK}.json", "w") as f:
    json.dump(RESULTS, f)
dist.destroy_process_group()
