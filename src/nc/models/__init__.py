"""Model sizes (Table 4), the decoder-only transformer and M1 as a probability source."""

from nc.models.m1 import M1Source
from nc.models.sizes import MODEL_SIZES, ModelSize, model_size
from nc.models.transformer import DecoderLM, build_model, count_params, init_params, param_shapes

__all__ = [
    "MODEL_SIZES",
    "ModelSize",
    "model_size",
    "DecoderLM",
    "build_model",
    "count_params",
    "init_params",
    "param_shapes",
    "M1Source",
]
