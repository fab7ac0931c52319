"""Training: Adafactor loop with the rsqrt schedule, z-loss, exact-resume checkpoints, data parallelism."""

from nc.train.data_order import batch_indices
from nc.train.loop import TrainConfig, train_lm
from nc.train.schedule import rsqrt_learning_rate, rsqrt_schedule

__all__ = ["TrainConfig", "train_lm", "batch_indices", "rsqrt_learning_rate", "rsqrt_schedule"]
