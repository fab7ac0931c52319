"""The one table of model sizes: the paper's Table 4 plus small CPU sizes for the smoke and tiny scales.

Every model in nc (M1, M2, baselines) is built from a ``ModelSize`` looked up here by name.
``nominal_params`` is the parameter count the paper uses in its FLOPs/byte formula (Section 3.8:
"25m" -> 25e6); for the CPU sizes it is the exact non-embedding count.
"""

from __future__ import annotations

from dataclasses import dataclass

# T5-style relative position buckets (per layer, per head); part of the non-embedding parameters.
RELATIVE_BUCKETS = 32


@dataclass(frozen=True)
class ModelSize:
    name: str
    embed_dim: int
    num_heads: int
    num_layers: int
    head_dim: int
    mlp_dim: int
    nominal: float | None = None  # the paper's nominal count (Table 4 names); None -> exact count

    @property
    def non_embedding_params(self) -> int:
        """Exact non-embedding parameter count of nc's decoder-only transformer.

        Per layer: q, k, v, o projections (4 * d * heads * head_dim), a gated-ReLU MLP with two input
        projections and one output projection (3 * d * mlp), two RMSNorm scales (2 * d) and a
        relative-position bias table (buckets * heads); plus the final RMSNorm (d). No biases.
        """
        d, inner = self.embed_dim, self.num_heads * self.head_dim
        per_layer = 4 * d * inner + 3 * d * self.mlp_dim + 2 * d + RELATIVE_BUCKETS * self.num_heads
        return self.num_layers * per_layer + d

    @property
    def nominal_params(self) -> float:
        """Parameter count used for FLOPs/token = 2 * nominal_params (Kaplan et al., as the paper)."""
        return float(self.nominal) if self.nominal is not None else float(self.non_embedding_params)


_TABLE = [
    # name,   d,    heads, layers, head_dim, mlp,  nominal
    # Table 4 of the paper.
    ModelSize("3m", 256, 4, 3, 64, 1024, 3e6),
    ModelSize("25m", 512, 8, 6, 64, 2048, 25e6),
    ModelSize("113m", 768, 12, 12, 64, 3072, 113e6),
    ModelSize("403m", 1024, 16, 24, 64, 4096, 403e6),
    ModelSize("2b", 2048, 32, 24, 64, 8192, 2e9),
    # Tiny scale (CPU laptop): t0 plays M1's role, t1..t4 the four M2 sizes. M1 is one layer (17k
    # non-embedding parameters), so every M2 is 3x-19x larger, as the paper's M2s are 8x-670x its 3m M1;
    # M2 sizes roughly double from size to size (50k, 111k, 197k, 307k), so the four-size study trains
    # in minutes on two CPU cores.
    ModelSize("t0", 32, 2, 1, 16, 128),
    ModelSize("t1", 32, 2, 3, 16, 128),
    ModelSize("t2", 48, 2, 3, 24, 192),
    ModelSize("t3", 64, 2, 3, 32, 256),
    ModelSize("t4", 80, 2, 3, 40, 320),
    # Smoke scale (CI): as small as still exercises every code path.
    ModelSize("s0", 32, 2, 1, 16, 64),
    ModelSize("s1", 32, 2, 1, 16, 64),
    ModelSize("s2", 48, 2, 2, 24, 96),
]

MODEL_SIZES: dict[str, ModelSize] = {s.name: s for s in _TABLE}
PAPER_M2_SIZES = ("25m", "113m", "403m", "2b")
PAPER_M1_SIZE = "3m"


def model_size(name: str) -> ModelSize:
    """Look a size up by name; raises KeyError listing the known names."""
    try:
        return MODEL_SIZES[name]
    except KeyError:
        raise KeyError(f"unknown model size {name!r}; known sizes: {', '.join(MODEL_SIZES)}") from None
