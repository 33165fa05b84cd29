"""``convert-tile-to-gemmini``: lower tile ops to Gemmini instructions (fine-grained, WS).

Every ``tile.load`` / ``tile.matmul`` / ``tile.store`` / ``tile.fence`` becomes the
``gemmini`` ops :mod:`gemforge.passes._lowering_tile` selects for it; ``scf`` loops and
``arith`` index math stay (the encoder turns them into the Program's loops and affine
operands). Buffers must have addresses (run ``allocate-scratchpad`` first); afterwards
``tile.alloc`` s and the double buffers' memref ``arith.select`` s are gone, replaced
by index constants and index selects of their first rows.

Configuration: the distinct ``config_ex`` / ``config_st`` / ``config_ld`` states the
function needs are collected first. When each fits its registers (one execute, one
store, three move-in configs) they are emitted once at the top of the function and
the move-ins use the move-in unit holding their state; otherwise a config is emitted
right before the instruction that needs it, only when it differs from the state known
at that point (unknown at the start and end of every loop or branch body). A pooled
``tile.store`` sets its pooled ``config_st`` before its move-outs and its unpooled one
after them, so store configs are never fixed in a function that pools.

Option ``target`` (built-in name or TOML path).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass

from gemforge.dialects import gemmini as gm
from gemforge.dialects import tile
from gemforge.dialects.tile import defining_allocs
from gemforge.passes._lowering_tile import LoweringError, Selector, Values
from gemforge.target import Target, load

ROLE_A, ROLE_B, ROLE_ACC = 0, 1, 2
# Configs already in the IR (the LOOP_WS form emits its own): nothing may be fixed at the top.
CONFIG_OPS = (gm.ConfigExOp, gm.ConfigLdOp, gm.ConfigStOp)


def load_role(op: tile.LoadOp) -> int:
    """Which move-in a load uses when configs are not fixed: A-side, B-side or accumulator."""
    if tile.memory_space(op.dest) is tile.MemorySpace.ACC:
        return ROLE_ACC
    seen, work = set(), [a.buffer for a in defining_allocs(op.dest)]
    while work:
        value = work.pop()
        if value in seen:
            continue
        seen.add(value)
        for use in value.uses:
            user = use.operation
            if isinstance(user, arith.SelectOp):
                work.append(user.result)
            elif isinstance(user, tile.MatmulOp) and user.b is value:
                return ROLE_B
    return ROLE_A


def config_op(cfg: tuple, which: int) -> Operation:
    kind = cfg[0]
    if kind == "ex":
        return gm.ConfigExOp(dataflow=gm.Dataflow.WS, a_stride=cfg[1])
    if kind == "st":  # ("st", stride, activation, scale[, pool fields])
        pool = dict(cfg[4]) if len(cfg) > 4 else {}
        return gm.ConfigStOp(stride=cfg[1], activation=cfg[2], scale=cfg[3], **pool)
    _, stride, block_stride, scale, shrunk = cfg
    return gm.ConfigLdOp(stride=stride, block_stride=block_stride, id=which, scale=scale, shrunk=shrunk)


class _FunctionLowering:
    def __init__(self, target: Target, fn: func.FuncOp):
        self.fn = fn
        entry = fn.body.block
        self.values = Values(entry)
        self.sel = Selector(target, self.values, self.request)
        self.fixed: dict[tuple, int] | None = None
        self.state: dict[object, tuple] = {}

    def plan(self) -> None:
        """Fix every config at the top when the function needs few enough of them."""
        need: dict[str, list[tuple]] = {"ex": [], "st": [], "ld": []}
        configs_in_ir = any(isinstance(op, CONFIG_OPS) for op in self.fn.walk())
        for op in self.fn.walk():
            if isinstance(op, tile.LoadOp):
                cfg = self.sel.load_config(op)
            elif isinstance(op, tile.StoreOp):
                cfg = self.sel.store_config(op)
            elif isinstance(op, tile.MatmulOp):
                cfg = self.sel.matmul_config(op)
            else:
                continue
            if cfg not in need[cfg[0]]:
                need[cfg[0]].append(cfg)
        # A pooled store sets its config and restores the unpooled one around its
        # move-outs: store configs are then requested where needed, never fixed.
        pooled = any(len(c) > 4 for c in need["st"])
        limits = {"ex": 1, "st": 0 if pooled else 1, "ld": 3}
        fixed: dict[tuple, int] = {}
        for kind, cfgs in need.items():
            if len(cfgs) <= limits[kind] and not configs_in_ir:
                fixed.update((c, i) for i, c in enumerate(cfgs))
        self.fixed = fixed
        entry = self.fn.body.block
        ops = [config_op(c, i) for c, i in fixed.items()]
        first = entry.first_op
        for op in ops:
            entry.insert_op_before(op, first) if first else entry.add_op(op)

    def request(self, cfg: tuple, role: int) -> int:
        """Make ``cfg`` current before the next instruction; returns the move-in id."""
        assert self.fixed is not None
        if cfg in self.fixed:
            return self.fixed[cfg]
        which = role if cfg[0] == "ld" else 0
        key = (cfg[0], which)
        if self.state.get(key) != cfg:
            self.values.emit(config_op(cfg, which))
            self.state[key] = cfg
        return which

    def lower_block(self, block: Block) -> None:
        for op in list(block.ops):
            if op.regions:
                for region in op.regions:
                    for inner in region.blocks:
                        self.state = {}
                        self.lower_block(inner)
                self.state = {}
                continue
            if isinstance(op, tile.LoadOp):
                self.sel.load(op, load_role(op))
            elif isinstance(op, tile.StoreOp):
                self.sel.store(op)
            elif isinstance(op, tile.MatmulOp):
                self.sel.matmul(op)
            elif isinstance(op, tile.FenceOp):
                self.values.emit(gm.FenceOp())
            else:
                if isinstance(op, CONFIG_OPS):
                    self.state = {}  # the config this op sets is no longer what we track
                continue
            block.insert_ops_before(self.values.pending, op)
            self.values.pending = []
            op.detach()
            op.erase()

    def run(self) -> None:
        self.plan()
        self.lower_block(self.fn.body.block)
        selects = [op for op in self.fn.walk() if isinstance(op, arith.SelectOp) and isinstance(op.result.type, MemRefType)]
        for op in reversed(selects):
            if op.result.uses:
                raise LoweringError(f"@{self.fn.sym_name.data}: a buffer select is still used after lowering")
            op.detach()
            op.erase()
        for op in [op for op in self.fn.walk() if isinstance(op, tile.AllocOp)]:
            if op.buffer.uses:
                raise LoweringError(f"@{self.fn.sym_name.data}: a tile.alloc is still used after lowering")
            op.detach()
            op.erase()


def lower_module(module: ModuleOp, target: Target) -> None:
    """Lower the tile ops of every function of ``module`` (see the module docstring)."""
    for fn in [op for op in module.walk() if isinstance(op, func.FuncOp)]:
        if any(o.dialect_name() == "tile" for o in fn.walk()):
            _FunctionLowering(target, fn).run()


@dataclass(frozen=True)
class ConvertTileToGemmini(ModulePass):
    """Lower tile ops to gemmini instructions (see the module docstring)."""

    name = "convert-tile-to-gemmini"

    target: str = "gemmini-default"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_module(op, load(self.target))
